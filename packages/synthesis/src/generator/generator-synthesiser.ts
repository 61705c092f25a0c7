import {
  AbortedError,
  deriveSeed,
  functionSchema,
  GenerationError,
  InvalidArgumentError,
  type JsonObject,
  parseWith,
  type Sample,
  type SampleInput,
  SeededRandom,
} from "@orbiter/types";
import { z } from "zod";
import { sleep, throwIfAborted } from "../internal/abort.js";
import { checkNonNegativeInteger } from "../internal/check-non-negative-integer.js";
import { mapConcurrent } from "../internal/map-concurrent.js";
import { parseSample } from "../internal/parse-sample.js";
import {
  DataSynthesiser,
  type StepProgress,
  type SynthesisContext,
  type SynthesisFailure,
} from "../pipeline/data-synthesiser.js";

/** What a generator may return: the text (it becomes the output), or a sample-like object. */
export type GeneratedText =
  | string
  | { input?: string; output: string; score?: number; metadata?: JsonObject };

/** Details passed to the generator with each call. */
export interface GenerateCallInfo {
  /** Fires when the run is aborted or the attempt times out; pass it on to your client. */
  signal: AbortSignal;
  /** 1-based attempt number. */
  attempt: number;
  /** Position of the call in its batch. */
  index: number;
}

/** What a prompt function receives. */
export interface PromptInfo {
  /** Position of the call in its batch. */
  index: number;
  /**
   * Position of the call across batches: samples produced before this batch (in a pipeline,
   * `context.produced`) plus `index`. A list of prompts is used in turn by this number.
   */
  ordinal: number;
  /** The samples kept so far (in a pipeline) or given to {@link GeneratorSynthesiser.generate}. */
  source: ReadonlyArray<Sample>;
  /** A generator seeded for this call. */
  rng: SeededRandom;
  /** One source sample picked with `rng` (undefined when the source is empty). */
  example: Sample | undefined;
}

/** A prompt: the text, or the text with metadata to carry into the sample. */
export type PromptValue = string | { input: string; metadata?: JsonObject };

/** Any async text generator: an LLM client, a policy, a rule. */
export type TextGenerator = (
  prompt: string,
  info: GenerateCallInfo,
) => Promise<GeneratedText> | GeneratedText;

/** Options of {@link GeneratorSynthesiser}. */
export const GeneratorSynthesiserOptions = z.strictObject({
  /** The generator called once per sample. */
  generate: functionSchema<TextGenerator>("expected a function (prompt, info) => text"),
  /**
   * The prompt of each call: one text for every call, a list used in turn, or a function of
   * {@link PromptInfo} (e.g. to show the generator an example from the source).
   */
  prompt: z.union([
    z.string(),
    z.array(z.string()).min(1),
    functionSchema<(info: PromptInfo) => PromptValue>("expected a string, strings or a function"),
  ]),
  /**
   * Turns the generator's text into a sample (e.g. splits "Q: … A: …"); returning `null` rejects the text,
   * which is then retried like a failed call. @default the prompt is the input and the text the output
   */
  parse:
    functionSchema<
      (text: string, info: { prompt: string; index: number }) => SampleInput | null | undefined
    >().optional(),
  /** Most calls in flight at once. @default 4 */
  concurrency: z.number().int().positive().default(4),
  /** Retries after a failed attempt (so `retries + 1` attempts in all). @default 2 */
  retries: z.number().int().nonnegative().default(2),
  /** Back-off before retry `n`: `min(maxMs, initialMs · factor^(n-1))`, shortened by up to `jitter` of it. */
  backoff: z
    .strictObject({
      /** @default 200 */
      initialMs: z.number().nonnegative().default(200),
      /** @default 2 */
      factor: z.number().min(1).default(2),
      /** @default 10000 */
      maxMs: z.number().nonnegative().default(10_000),
      /** Random share (seeded) taken off each delay, in [0, 1]. @default 0.5 */
      jitter: z.number().min(0).max(1).default(0.5),
    })
    .default({ initialMs: 200, factor: 2, maxMs: 10_000, jitter: 0.5 }),
  /** Time limit of one attempt in milliseconds; a late answer is discarded. @default undefined (none) */
  timeoutMs: z.number().positive().optional(),
  /** Most calls per pipeline step call. @default the number of samples the pipeline still needs */
  batchSize: z.number().int().positive().optional(),
  /** Name in pipeline statistics. @default "GeneratorSynthesiser" */
  name: z.string().min(1).default("GeneratorSynthesiser"),
  /** Seed for standalone use (in a pipeline the context's generator is used). @default 0 */
  seed: z.number().int().default(0),
});

/** Input form of {@link GeneratorSynthesiserOptions}. */
export type GeneratorSynthesiserOptions = z.input<typeof GeneratorSynthesiserOptions>;

/** The outcome of a batch of generator calls. */
export interface GenerationBatch {
  /** One sample per successful call, in call order. */
  samples: Sample[];
  /** One entry per call that failed after all its attempts. */
  failures: SynthesisFailure[];
  /** Attempts made in all (successful and failed). */
  attempts: number;
}

/** Options of {@link GeneratorSynthesiser.generate}. */
export interface GeneratorCallOptions {
  /** Samples shown to a prompt function. @default [] */
  source?: ReadonlyArray<Sample>;
  /** Cancels the batch (it then rejects with an `AbortedError`). */
  signal?: AbortSignal;
  /** Called as calls finish. */
  onProgress?: (progress: StepProgress) => void;
}

/**
 * Produces samples by calling any text generator — an LLM client or a policy — under a concurrency cap, with
 * retries and exponential back-off. Each call yields at most one sample, in call order; a call that still fails
 * after its retries is counted and reported (in a pipeline through `context.reportFailure`, standalone in the
 * returned `failures`), never silently dropped, and a late answer after a timeout is never used twice.
 *
 * @example
 * ```ts
 * const synthesiser = new GeneratorSynthesiser({
 *   generate: async (prompt, { signal }) => (await client.complete({ prompt, signal })).text,
 *   prompt: ({ example }) => `Write a new question like: ${example?.input ?? "What is 2 + 2?"}`,
 *   concurrency: 8,
 *   retries: 3,
 * });
 * pipeline.addStep(synthesiser);
 * ```
 */
export class GeneratorSynthesiser extends DataSynthesiser {
  private readonly options: z.output<typeof GeneratorSynthesiserOptions>;
  private cursor = 0;

  constructor(options: GeneratorSynthesiserOptions) {
    super();
    this.options = parseWith(GeneratorSynthesiserOptions, options, { what: "GeneratorSynthesiser options" });
  }

  override get name(): string {
    return this.options.name;
  }

  /** Makes `count` calls (standalone use); sample ids are `generated-<n>`, counting across calls. */
  async generate(count: number, options: GeneratorCallOptions = {}): Promise<GenerationBatch> {
    checkNonNegativeInteger(count, "count");
    const rng = new SeededRandom(deriveSeed(this.options.seed, "generate", this.cursor));
    const batch = await this.run(
      count,
      this.cursor,
      options.source ?? [],
      rng,
      options.signal,
      options.onProgress,
    );
    for (const sample of batch.samples) sample.id = `generated-${this.cursor++}`;
    return batch;
  }

  /** As a pipeline step: as many calls as the pipeline needs (or `batchSize`); failures are reported. */
  override async synthesise(
    source: ReadonlyArray<Sample>,
    context: SynthesisContext,
  ): Promise<SampleInput[]> {
    const count = Math.min(context.needed, this.options.batchSize ?? Number.POSITIVE_INFINITY);
    const batch = await this.run(count, context.produced, source, context.rng, context.signal, (progress) =>
      context.onProgress(progress),
    );
    for (const failure of batch.failures) context.reportFailure(failure);
    // Ids are left to the pipeline, which numbers them deterministically.
    return batch.samples.map(({ id: _id, ...rest }) => rest);
  }

  private async run(
    count: number,
    offset: number,
    source: ReadonlyArray<Sample>,
    rng: SeededRandom,
    signal: AbortSignal | undefined,
    onProgress: ((progress: StepProgress) => void) | undefined,
  ): Promise<GenerationBatch> {
    const base = rng.int32();
    const failures: SynthesisFailure[] = [];
    let attempts = 0;
    let completed = 0;
    const results = await mapConcurrent(
      Array.from({ length: count }, (_, i) => i),
      this.options.concurrency,
      async (index) => {
        throwIfAborted(signal);
        const callRandom = new SeededRandom(deriveSeed(base, "call", index));
        const prompt = this.promptFor(index, offset + index, source, callRandom);
        const outcome = await this.call(prompt, index, callRandom, signal);
        attempts += outcome.attempts;
        completed++;
        onProgress?.({ completed, total: count });
        if ("error" in outcome) {
          failures.push({
            index,
            message: outcome.error instanceof Error ? outcome.error.message : String(outcome.error),
            attempts: outcome.attempts,
            error: outcome.error,
          });
          return undefined;
        }
        return outcome.sample;
      },
    );
    failures.sort((a, b) => a.index - b.index);
    const samples = results.filter((sample): sample is Sample => sample !== undefined);
    return { samples, failures, attempts };
  }

  private promptFor(
    index: number,
    ordinal: number,
    source: ReadonlyArray<Sample>,
    rng: SeededRandom,
  ): PromptValue {
    const { prompt } = this.options;
    if (typeof prompt === "string") return prompt;
    if (Array.isArray(prompt)) return prompt[ordinal % prompt.length] as string;
    const example = source.length > 0 ? source[rng.integer(0, source.length - 1)] : undefined;
    let value: PromptValue;
    try {
      value = (prompt as (info: PromptInfo) => PromptValue)({ index, ordinal, source, rng, example });
    } catch (error) {
      throw new GenerationError(
        `The prompt function threw for call ${index} (ordinal ${ordinal}): ${describe(error)}`,
        {
          cause: error,
        },
      );
    }
    if (typeof value !== "string" && (value == null || typeof value.input !== "string")) {
      throw new InvalidArgumentError("The prompt function must return a string or { input, metadata? }", {
        field: "prompt",
        value,
      });
    }
    return value;
  }

  /** One call with its retries: the sample, or the last error. */
  private async call(
    promptValue: PromptValue,
    index: number,
    rng: SeededRandom,
    signal: AbortSignal | undefined,
  ): Promise<{ sample: Sample; attempts: number } | { error: unknown; attempts: number }> {
    const prompt = typeof promptValue === "string" ? promptValue : promptValue.input;
    const promptMetadata = typeof promptValue === "string" ? undefined : promptValue.metadata;
    const { retries, backoff } = this.options;
    let lastError: unknown;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      throwIfAborted(signal);
      if (attempt > 1) {
        const delay = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** (attempt - 2));
        await sleep(delay * (1 - backoff.jitter * rng.next()), signal);
      }
      try {
        const text = await this.attempt(prompt, index, attempt, signal);
        const sample = this.buildSample(text, prompt, index, attempt, promptMetadata);
        return { sample, attempts: attempt };
      } catch (error) {
        if (signal?.aborted) throw new AbortedError("The generation was aborted", { cause: signal.reason });
        lastError = error;
      }
    }
    return {
      error: new GenerationError(
        `Generator call ${index} failed after ${retries + 1} attempt(s): ${describe(lastError)}`,
        { attempts: retries + 1, cause: lastError },
      ),
      attempts: retries + 1,
    };
  }

  /**
   * One attempt. It settles as soon as the generator answers, the time limit passes, or the run is aborted —
   * even if the generator ignores its signal (its late answer is then discarded).
   */
  private async attempt(
    prompt: string,
    index: number,
    attempt: number,
    outer: AbortSignal | undefined,
  ): Promise<GeneratedText> {
    const { timeoutMs, generate } = this.options;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      onAbort = () => {
        controller.abort(outer?.reason);
        reject(new AbortedError("The generation was aborted", { cause: outer?.reason }));
      };
      if (outer?.aborted) onAbort();
      else outer?.addEventListener("abort", onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const error = new GenerationError(`Generator call ${index} timed out after ${timeoutMs} ms`, {
            attempts: attempt,
          });
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      }
    });
    try {
      return await Promise.race([
        Promise.resolve().then(() => generate(prompt, { signal: controller.signal, attempt, index })),
        stop,
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) outer?.removeEventListener("abort", onAbort);
    }
  }

  private buildSample(
    text: GeneratedText,
    prompt: string,
    index: number,
    attempt: number,
    promptMetadata: JsonObject | undefined,
  ): Sample {
    const metadata: JsonObject = { source: "generator", attempts: attempt, ...promptMetadata };
    let input: SampleInput;
    if (typeof text === "string") {
      if (this.options.parse) {
        const parsed = this.options.parse(text, { prompt, index });
        if (parsed == null) throw new Error("parse() rejected the generated text");
        input = { ...parsed, metadata: { ...metadata, ...(parsed.metadata ?? {}) } };
      } else {
        input = { input: prompt, output: text, metadata };
      }
    } else if (text !== null && typeof text === "object" && typeof text.output === "string") {
      input = {
        input: text.input ?? prompt,
        output: text.output,
        metadata: { ...metadata, ...text.metadata },
        ...(text.score === undefined ? {} : { score: text.score }),
      };
    } else {
      throw new Error(`The generator returned ${describe(text)}, expected a string or { output }`);
    }
    // A sample without an id gets a placeholder; callers renumber it.
    return parseSample(input, () => "pending", { what: "generated sample" });
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return String(value);
}
