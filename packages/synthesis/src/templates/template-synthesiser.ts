import {
  deriveSeed,
  functionSchema,
  InvalidArgumentError,
  JsonObject,
  parseWith,
  type Sample,
} from "@orbiter/types";
import { z } from "zod";
import { checkNonNegativeInteger } from "../internal/check-non-negative-integer.js";
import { hashString } from "../internal/hash.js";
import { IndexPermutation, MAX_PERMUTATION_SIZE } from "../internal/index-permutation.js";
import { DataSynthesiser, type SynthesisContext } from "../pipeline/data-synthesiser.js";

/** A value a template variable can take. Numbers and booleans are written with `String(value)`. */
export type TemplateValue = string | number | boolean;

/** Computes a derived placeholder from the values chosen for the template's own variables. */
export type TemplateDerivation = (values: Readonly<Record<string, TemplateValue>>) => TemplateValue;

/**
 * A template: a string (it becomes the sample's `input`; `output` is empty, to be filled later by a generator
 * or a policy) or an `{ input, output }` pair, so that verifiable tasks carry their answer.
 */
export type Template = string | { input: string; output?: string; metadata?: JsonObject };

/**
 * Options of {@link TemplateSynthesiser}.
 */
export const TemplateSynthesiserOptions = z.strictObject({
  /** Templates with `{name}` placeholders; `{{` and `}}` write literal braces. At least one. */
  templates: z
    .array(
      z.union([
        z.string(),
        z.strictObject({ input: z.string(), output: z.string().optional(), metadata: JsonObject.optional() }),
      ]),
    )
    .min(1),
  /** Values of each placeholder. @default {} */
  variables: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()]))).default({}),
  /**
   * Placeholders computed from the template's other variables, e.g. `{ sum: (v) => Number(v.a) + Number(v.b) }`
   * for `"What is {a} + {b}?" → "{sum}"`. A derivation sees the variables its template mentions. @default {}
   */
  derive: z.record(z.string(), functionSchema<TemplateDerivation>("expected a function")).default({}),
  /** Seed of the order in which combinations are produced. @default 0 */
  seed: z.number().int().default(0),
  /** Prefix of sample ids; the id is the prefix followed by the sample's ordinal. @default "template-<seed>-" */
  idPrefix: z.string().optional(),
  /** Most samples produced per pipeline call. @default the number the pipeline still needs */
  batchSize: z.number().int().positive().optional(),
});

/** Input form of {@link TemplateSynthesiserOptions}. */
export type TemplateSynthesiserOptions = z.input<typeof TemplateSynthesiserOptions>;

/** One template text split into literal pieces and placeholder slots. */
interface CompiledText {
  /** `literals.length === slots.length + 1`; slot `i` goes between literal `i` and `i + 1`. */
  literals: string[];
  /** Index into the template's value list (base variables first, then derived ones). */
  slots: number[];
}

interface CompiledTemplate {
  input: CompiledText;
  output: CompiledText;
  metadata: JsonObject | undefined;
  /** Variables drawn for this template, in order of first appearance. */
  base: string[];
  /** Their numbers of values (the radices of the combination index). */
  radices: number[];
  /** Derived placeholders the template uses. */
  derived: string[];
  /** Number of combinations: the product of `radices`. */
  size: number;
}

/** `{{`, `}}`, or `{name}` where a name starts with a letter or `_` and goes on with letters, digits, `_ . -`. */
const PLACEHOLDER = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;

/**
 * Generates samples by filling `{placeholders}` in templates with the values of variables.
 *
 * Every (template, combination of values) pair is one point of a space of `size` points. Samples visit that
 * space in a seeded pseudo-random order without repeating a point until all are used, then start a new
 * order: the permutation is computed index by index (a Feistel network with cycle walking over the mixed-radix
 * combination index), so even a space of 10^15 points costs no memory. Sample `n` depends only on the seed and
 * `n`, which makes the synthesiser replayable as a pipeline step. For spaces beyond 2^52 points, each value is
 * drawn from a hash of the ordinal instead (a repeat within the first `n` samples then has probability below
 * about `n² / 2^53`).
 *
 * A string template fills the sample's `input` and leaves `output` empty; an `{ input, output }` template fills
 * both. `metadata` records `{ source: "template", template, variables }` plus the template's own metadata.
 *
 * @example
 * ```ts
 * const synthesiser = new TemplateSynthesiser({
 *   templates: [{ input: "What is {a} + {b}?", output: "{sum}" }, "Explain {concept} in simple terms"],
 *   variables: { a: [1, 2, 3], b: [10, 20], concept: ["Python", "Rust"] },
 *   derive: { sum: (v) => Number(v.a) + Number(v.b) },
 *   seed: 1,
 * });
 * const items = await synthesiser.generate(8); // all 8 combinations, each once, in a seeded order
 * ```
 */
export class TemplateSynthesiser extends DataSynthesiser {
  /** Number of distinct (template, combination) points; may exceed 2^53 (then it is approximate). */
  readonly size: number;
  /** Seed of the visiting order. */
  readonly seed: number;
  private readonly templates: CompiledTemplate[];
  private readonly values: Record<string, TemplateValue[]>;
  private readonly valueTexts: Record<string, string[]>;
  private readonly derivations: Record<string, TemplateDerivation>;
  /** `cumulative[t]` = points in templates before `t`. */
  private readonly cumulative: number[];
  private readonly idPrefix: string;
  private readonly batchSize: number | undefined;
  /** Scratch list of the texts of the current sample's values (base variables, then derived ones). */
  private readonly texts: string[] = [];
  private permutationEpoch = -1;
  private permutation: IndexPermutation | undefined;
  private cursor = 0;

  constructor(options: TemplateSynthesiserOptions) {
    super();
    const parsed = parseWith(TemplateSynthesiserOptions, options, { what: "TemplateSynthesiser options" });
    this.seed = parsed.seed;
    this.values = parsed.variables;
    this.derivations = parsed.derive;
    this.idPrefix = parsed.idPrefix ?? `template-${parsed.seed}-`;
    this.batchSize = parsed.batchSize;
    this.valueTexts = {};
    for (const [name, list] of Object.entries(parsed.variables)) this.valueTexts[name] = list.map(String);
    for (const name of Object.keys(parsed.derive)) {
      if (Object.hasOwn(parsed.variables, name)) {
        throw new InvalidArgumentError(`"${name}" is both a variable and a derived placeholder`, {
          field: `derive.${name}`,
        });
      }
    }
    this.templates = parsed.templates.map((template, index) => this.compile(template, index));
    this.cumulative = [];
    let total = 0;
    for (const template of this.templates) {
      this.cumulative.push(total);
      total += template.size;
    }
    this.size = total;
  }

  override get name(): string {
    return "TemplateSynthesiser";
  }

  /** The next `count` samples (continuing where the previous call stopped). */
  async generate(count: number): Promise<Sample[]> {
    const samples = this.generateAt(this.cursor, count);
    this.cursor += samples.length;
    return samples;
  }

  /**
   * Samples number `start` to `start + count - 1` of this synthesiser's sequence, without moving the cursor
   * of {@link TemplateSynthesiser.generate}. The same ordinals always give the same samples.
   */
  generateAt(start: number, count: number): Sample[] {
    checkNonNegativeInteger(count, "count");
    checkNonNegativeInteger(start, "start");
    const samples: Sample[] = new Array(count);
    for (let i = 0; i < count; i++) samples[i] = this.sampleAt(start + i);
    return samples;
  }

  /** As a pipeline step: the next samples of the sequence, as many as the pipeline needs (or `batchSize`). */
  override synthesise(_source: ReadonlyArray<Sample>, context: SynthesisContext): Sample[] {
    const count = Math.min(context.needed, this.batchSize ?? Number.POSITIVE_INFINITY);
    return this.generateAt(context.produced, count);
  }

  private sampleAt(ordinal: number): Sample {
    const hashed = this.size > MAX_PERMUTATION_SIZE;
    const point = hashed ? this.hashedUnit(ordinal, -1) * this.size : this.pointAt(ordinal);
    // Find the template holding `point` (binary search over the cumulative sizes).
    let low = 0;
    let high = this.templates.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((this.cumulative[middle] as number) <= point) low = middle;
      else high = middle - 1;
    }
    const template = this.templates[low] as CompiledTemplate;
    let combination = point - (this.cumulative[low] as number);
    const { base, radices, derived } = template;
    // Filled in and consumed right away, so one array serves every sample.
    const texts = this.texts;
    // The chosen values, in the metadata and as the argument of derivations.
    const variables: Record<string, TemplateValue> = {};
    for (let v = 0; v < base.length; v++) {
      const radix = radices[v] as number;
      let digit: number;
      if (hashed) {
        digit = Math.min(radix - 1, Math.floor(this.hashedUnit(ordinal, v) * radix));
      } else {
        digit = combination % radix;
        combination = (combination - digit) / radix;
      }
      const name = base[v] as string;
      variables[name] = (this.values[name] as TemplateValue[])[digit] as TemplateValue;
      texts[v] = (this.valueTexts[name] as string[])[digit] as string;
    }
    for (let d = 0; d < derived.length; d++) {
      const name = derived[d] as string;
      const value = (this.derivations[name] as TemplateDerivation)(variables);
      if (typeof value !== "string" && typeof value !== "boolean" && !Number.isFinite(value)) {
        throw new InvalidArgumentError(
          `derive.${name} returned ${String(value)}; expected a string, boolean or finite number`,
          { field: `derive.${name}`, value },
        );
      }
      variables[name] = value;
      texts[base.length + d] = String(value);
    }
    const metadata: JsonObject = { source: "template", template: low, variables };
    if (template.metadata) Object.assign(metadata, template.metadata);
    return {
      id: this.idPrefix + ordinal,
      input: fill(template.input, texts),
      output: fill(template.output, texts),
      metadata,
    };
  }

  /** The point of the space visited at `ordinal` (spaces of at most 2^52 points). */
  private pointAt(ordinal: number): number {
    const size = this.size;
    const epoch = Math.floor(ordinal / size);
    if (epoch !== this.permutationEpoch || !this.permutation) {
      this.permutation = new IndexPermutation(size, deriveSeed(this.seed, "template-order", epoch));
      this.permutationEpoch = epoch;
    }
    return this.permutation.at(ordinal - epoch * size);
  }

  /** A uniform number in [0, 1) that depends only on the seed, the ordinal and `part`. */
  private hashedUnit(ordinal: number, part: number): number {
    const high = hashString(`${this.seed}:${ordinal}:${part}:h`);
    const low = hashString(`${this.seed}:${ordinal}:${part}:l`);
    return (high * 2 ** 21 + (low >>> 11)) / 2 ** 53;
  }

  private compile(template: z.output<typeof TemplateSynthesiserOptions>["templates"][number], index: number) {
    const source = typeof template === "string" ? { input: template, output: "" } : template;
    const base: string[] = [];
    const derived: string[] = [];
    const field = `templates[${index}]`;
    const slotOf = (name: string): number => {
      if (Object.hasOwn(this.values, name)) {
        let at = base.indexOf(name);
        if (at < 0) {
          if ((this.values[name] as TemplateValue[]).length === 0) {
            throw new InvalidArgumentError(`Placeholder {${name}} in ${field} has no values`, {
              field: `variables.${name}`,
            });
          }
          base.push(name);
          at = base.length - 1;
        }
        return at;
      }
      if (Object.hasOwn(this.derivations, name)) {
        let at = derived.indexOf(name);
        if (at < 0) {
          derived.push(name);
          at = derived.length - 1;
        }
        return -1 - at; // resolved after all base variables are known
      }
      throw new InvalidArgumentError(`Placeholder {${name}} in ${field} is neither a variable nor derived`, {
        field,
        value: name,
      });
    };
    const input = split(source.input, slotOf);
    const output = split(source.output ?? "", slotOf);
    for (const text of [input, output]) {
      text.slots = text.slots.map((slot) => (slot < 0 ? base.length + (-1 - slot) : slot));
    }
    const radices = base.map((name) => (this.values[name] as TemplateValue[]).length);
    const size = radices.reduce((product, radix) => product * radix, 1);
    return { input, output, metadata: source.metadata, base, radices, derived, size };
  }
}

function split(text: string, slotOf: (name: string) => number): CompiledText {
  const literals: string[] = [];
  const slots: number[] = [];
  let literal = "";
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    literal += text.slice(last, match.index);
    last = match.index + match[0].length;
    if (match[1] === undefined) {
      literal += match[0][0];
      continue;
    }
    literals.push(literal);
    literal = "";
    slots.push(slotOf(match[1]));
  }
  literals.push(literal + text.slice(last));
  return { literals, slots };
}

function fill(text: CompiledText, values: string[]): string {
  const { literals, slots } = text;
  let out = literals[0] as string;
  for (let i = 0; i < slots.length; i++) out += (values[slots[i] as number] as string) + literals[i + 1];
  return out;
}
