import { InvalidArgumentError, SeededRandom } from "@orbiter/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SynthesisContext } from "../pipeline/data-synthesiser.js";
import { SynthesisConfig } from "../pipeline/synthesis-config.js";
import { TemplateSynthesiser } from "./template-synthesiser.js";

describe("TemplateSynthesiser", () => {
  it("fills placeholders; a string template gives the input and an empty output", async () => {
    const synthesiser = new TemplateSynthesiser({
      templates: ["Explain {concept} in simple terms"],
      variables: { concept: ["Python"] },
      seed: 1,
    });
    const [sample] = await synthesiser.generate(1);
    expect(sample).toEqual({
      id: "template-1-0",
      input: "Explain Python in simple terms",
      output: "",
      metadata: { source: "template", template: 0, variables: { concept: "Python" } },
    });
  });

  it("computes derived placeholders, so verifiable tasks carry the right answer", async () => {
    const synthesiser = new TemplateSynthesiser({
      templates: [{ input: "What is {a} + {b}?", output: "{sum}", metadata: { task: "add" } }],
      variables: { a: [1, 2, 3, 4], b: [10, 20, 30] },
      derive: { sum: (v) => Number(v.a) + Number(v.b) },
    });
    const items = await synthesiser.generate(12);
    for (const item of items) {
      const [, a, b] = item.input.match(/What is (\d+) \+ (\d+)\?/) ?? [];
      expect(Number(item.output)).toBe(Number(a) + Number(b));
      expect(item.metadata).toMatchObject({ task: "add", variables: { a: Number(a), b: Number(b) } });
    }
    expect(new Set(items.map((i) => i.input)).size).toBe(12);
  });

  it("uses every combination once before repeating, then starts a new order", async () => {
    const synthesiser = new TemplateSynthesiser({
      templates: ["Explain {concept} in simple terms", "Compare {a} with {b}"],
      variables: {
        concept: ["Python", "JavaScript", "Rust"],
        a: ["REST", "GraphQL"],
        b: ["gRPC", "WebSocket"],
      },
      seed: 3,
    });
    expect(synthesiser.size).toBe(3 + 4);
    const first = (await synthesiser.generate(7)).map((s) => s.input);
    const second = (await synthesiser.generate(7)).map((s) => s.input);
    expect(new Set(first).size).toBe(7);
    expect(new Set(second).size).toBe(7);
    expect(new Set([...first, ...second]).size).toBe(7);
    expect(second).not.toEqual(first);
  });

  it("property: the first `size` samples are all distinct, for any variable sizes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
        fc.integer(),
        (sizes, seed) => {
          const variables: Record<string, string[]> = {};
          const names = sizes.map((_, i) => `v${i}`);
          sizes.forEach((n, i) => {
            variables[`v${i}`] = Array.from({ length: n }, (_, k) => String(k));
          });
          const synthesiser = new TemplateSynthesiser({
            templates: [names.map((name) => `{${name}}`).join("-"), `only {${names[0]}}`],
            variables,
            seed,
          });
          const total = sizes.reduce((p, n) => p * n, 1) + (sizes[0] as number);
          expect(synthesiser.size).toBe(total);
          const inputs = synthesiser.generateAt(0, total).map((s) => s.input);
          expect(new Set(inputs).size).toBe(total);
        },
      ),
      { seed: 8, numRuns: 60 },
    );
  });

  it("is deterministic for a seed, and generateAt matches generate", async () => {
    const options = {
      templates: ["{x} and {y}"],
      variables: { x: [1, 2, 3, 4, 5], y: ["a", "b", "c"] },
      seed: 5,
    };
    const a = await new TemplateSynthesiser(options).generate(20);
    const b = await new TemplateSynthesiser(options).generate(20);
    expect(a).toEqual(b);
    expect(new TemplateSynthesiser(options).generateAt(10, 5)).toEqual(a.slice(10, 15));
    const other = await new TemplateSynthesiser({ ...options, seed: 6 }).generate(15);
    expect(other.map((s) => s.input)).not.toEqual(a.slice(0, 15).map((s) => s.input));
  });

  it("handles a combination space far too large to list", () => {
    const values = Array.from({ length: 1000 }, (_, i) => i);
    const synthesiser = new TemplateSynthesiser({
      templates: ["{a}/{b}/{c}/{d}/{e}/{f}"],
      variables: { a: values, b: values, c: values, d: values, e: values, f: values },
    });
    expect(synthesiser.size).toBe(1e18);
    const inputs = synthesiser.generateAt(0, 2000).map((s) => s.input);
    expect(new Set(inputs).size).toBe(2000);
    const big = new TemplateSynthesiser({
      templates: ["{a}.{b}.{c}.{d}"],
      variables: { a: values, b: values, c: values, d: values },
    });
    expect(big.size).toBe(1e12);
    expect(new Set(big.generateAt(5e11, 1000).map((s) => s.input)).size).toBe(1000);
  });

  it("accepts dotted and hyphenated placeholder names", async () => {
    const synthesiser = new TemplateSynthesiser({
      templates: ["Compare {concept-a} with {concept.b}"],
      variables: { "concept-a": ["REST"], "concept.b": ["gRPC"] },
    });
    expect((await synthesiser.generate(1))[0]?.input).toBe("Compare REST with gRPC");
  });

  it("writes literal braces for {{ and }}", async () => {
    const synthesiser = new TemplateSynthesiser({
      templates: ['Return {{"lang": "{lang}"}}'],
      variables: { lang: ["go"] },
    });
    expect((await synthesiser.generate(1))[0]?.input).toBe('Return {"lang": "go"}');
  });

  it("rejects a placeholder with no values, or none at all, naming it", () => {
    expect(
      () => new TemplateSynthesiser({ templates: ["Explain {concept}"], variables: { concept: [] } }),
    ).toThrow(expect.objectContaining({ field: "variables.concept" }));
    expect(() => new TemplateSynthesiser({ templates: ["ok", "Explain {topic}"], variables: {} })).toThrow(
      expect.objectContaining({ field: "templates[1]" }),
    );
    // Names inherited by every object are not variables.
    expect(() => new TemplateSynthesiser({ templates: ["{constructor} and {toString}"] })).toThrow(
      expect.objectContaining({ field: "templates[0]", value: "constructor" }),
    );
    expect(
      () => new TemplateSynthesiser({ templates: ["x"], variables: {}, derive: { toString: () => "y" } }),
    ).not.toThrow();
    expect(() => new TemplateSynthesiser({ templates: [] })).toThrow(
      expect.objectContaining({ field: "templates" }),
    );
    expect(
      () => new TemplateSynthesiser({ templates: ["{a}"], variables: { a: [1] }, derive: { a: () => 1 } }),
    ).toThrow(expect.objectContaining({ field: "derive.a" }));
    expect(() => new TemplateSynthesiser({ templates: ["x"], seeds: 1 } as never)).toThrow(
      expect.objectContaining({ field: "seeds" }),
    );
    const synthesiser = new TemplateSynthesiser({ templates: ["x"] });
    expect(() => synthesiser.generateAt(0, -1)).toThrow(expect.objectContaining({ field: "count" }));
    expect(() => synthesiser.generateAt(-1, 1)).toThrow(
      expect.objectContaining({ field: "start", value: -1 }),
    );
    expect(() => synthesiser.generateAt(0.5, 1)).toThrow(
      expect.objectContaining({ field: "start", value: 0.5 }),
    );
    const bad = new TemplateSynthesiser({
      templates: ["{a}={r}"],
      variables: { a: [1] },
      derive: { r: () => Number.NaN },
    });
    expect(() => bad.generateAt(0, 1)).toThrow(InvalidArgumentError);
  });

  it("as a pipeline step, continues from what it already produced", () => {
    const synthesiser = new TemplateSynthesiser({
      templates: ["{n}"],
      variables: { n: [1, 2, 3, 4, 5, 6] },
      batchSize: 4,
    });
    const context = (produced: number, needed: number) =>
      ({
        config: SynthesisConfig.parse({}),
        rng: new SeededRandom(0),
        produced,
        needed,
      }) as unknown as SynthesisContext;
    const first = synthesiser.synthesise([], context(0, 10));
    const second = synthesiser.synthesise([], context(4, 2));
    expect(first).toHaveLength(4);
    expect(second).toEqual(synthesiser.generateAt(4, 2));
  });
});
