import {
  AbortedError,
  InvalidArgumentError,
  InvalidStateError,
  RewardError,
  type Sample,
} from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { GeneratorSynthesiser } from "../generator/generator-synthesiser.js";
import { TemplateSynthesiser } from "../templates/template-synthesiser.js";
import { DataSynthesiser, type SynthesisContext } from "./data-synthesiser.js";
import { SynthesisPipeline } from "./synthesis-pipeline.js";
import type { SynthesisProgress } from "./synthesis-result.js";

/** Draws `count` inputs "item-<k>" with k uniform in [0, vocabulary): repeats are exact duplicates. */
class DrawStep extends DataSynthesiser {
  calls = 0;
  constructor(
    private readonly count: number,
    private readonly vocabulary: number,
  ) {
    super();
  }
  synthesise(_source: ReadonlyArray<Sample>, context: SynthesisContext) {
    this.calls++;
    return Array.from({ length: this.count }, () => {
      const k = context.rng.integer(0, this.vocabulary - 1);
      return { input: `item-${k} ${"lorem ipsum ".repeat(3)}`, output: String(k), score: (k % 10) / 10 };
    });
  }
}

const seed = [
  { id: "s1", input: "How do I reverse a list in Python?", output: "Use reversed() or slicing.", score: 0.9 },
  { id: "s2", input: "What is a closure?", output: "A function with captured variables.", score: 0.5 },
  { id: "s3", input: "Explain promises in JavaScript", output: "Objects for eventual values." },
  {
    id: "s4",
    input: "How do I reverse a list in Python?",
    output: "Use reversed() or slicing.",
    score: 0.95,
  },
];

describe("SynthesisPipeline", () => {
  it("filters and de-duplicates the seed (known answer)", async () => {
    const result = await new SynthesisPipeline({ config: { targetSize: 3, minScore: 0.7 } }).run(seed);
    expect(result.items.map((s) => s.id)).toEqual(["s1", "s3"]);
    expect(result).toMatchObject({
      seedCount: 2,
      generatedCount: 0,
      filteredCount: 2,
      filtered: { belowScore: 1, duplicate: 1 },
      stopReason: "exhausted",
      reachedTarget: false,
    });
    const strict = await new SynthesisPipeline({ config: { minScore: 0.7, dropUnscored: true } }).run(seed);
    expect(strict.items.map((s) => s.id)).toEqual(["s1"]);
    expect(strict.filtered).toEqual({ belowScore: 2, duplicate: 1 });
  });

  it("runs steps until exactly targetSize samples are kept, with consistent statistics", async () => {
    const step = new DrawStep(40, 200);
    const pipeline = new SynthesisPipeline({ config: { targetSize: 100, minScore: 0.3, seed: 7 } }).addStep(
      step,
    );
    const result = await pipeline.run(seed);
    expect(result.items).toHaveLength(100);
    expect(result.reachedTarget).toBe(true);
    expect(result.stopReason).toBe("target");
    const [stats] = result.steps;
    expect(stats?.calls).toBe(step.calls);
    expect(stats?.generated).toBe(40 * step.calls);
    expect(
      (stats?.accepted ?? 0) + (stats?.belowScore ?? 0) + (stats?.duplicate ?? 0) + (stats?.surplus ?? 0),
    ).toBe(stats?.generated);
    expect(result.acceptedCount).toBe(stats?.accepted);
    expect(result.seedCount + result.acceptedCount).toBe(100);
    expect(result.filteredCount).toBe(result.filtered.belowScore + result.filtered.duplicate);
    for (const item of result.items.slice(result.seedCount)) expect(item.score).toBeGreaterThanOrEqual(0.3);
    expect(new Set(result.items.map((s) => s.input)).size).toBe(100);
    expect(new Set(result.items.map((s) => s.id)).size).toBe(100);
    expect(result.timings.totalMs).toBeGreaterThanOrEqual(result.timings.stepsMs);
  });

  it("accounts for every sample when the target is reached mid-batch or at a scoring chunk's end", async () => {
    for (const targetSize of [6, 8, 9]) {
      const result = await new SynthesisPipeline({
        config: { targetSize, concurrency: 4, scorer: () => 1, maxRounds: 1 },
      })
        .addStep({
          name: "twelve",
          synthesise: () =>
            Array.from({ length: 12 }, (_, i) => ({ input: `question number ${i * 7919}`, output: "" })),
        })
        .run([]);
      const [stats] = result.steps;
      expect(result.items).toHaveLength(targetSize);
      expect(stats).toMatchObject({ generated: 12, accepted: targetSize, surplus: 12 - targetSize });
    }
  });

  it("gives the same result for the same seed, and a different one for another seed", async () => {
    const run = (s: number) =>
      new SynthesisPipeline({ config: { targetSize: 60, seed: s, dedupThreshold: 0.8 } })
        .addStep(new DrawStep(10, 120))
        .addStep(new TemplateSynthesiser({ templates: ["Explain {t}"], variables: { t: ["a", "b", "c"] } }))
        .run(seed);
    const a = await run(1);
    const b = await run(1);
    expect(b.items).toEqual(a.items);
    expect(b.steps.map(({ durationMs: _, ...rest }) => rest)).toEqual(
      a.steps.map(({ durationMs: _, ...rest }) => rest),
    );
    expect((await run(2)).items).not.toEqual(a.items);
  });

  it("counts a low-scoring duplicate as a duplicate, with or without a scorer", async () => {
    const outputs = [
      { input: "same question", output: "x", score: 0.9 },
      { input: "same question", output: "x", score: 0.1 },
      { input: "other question", output: "y", score: 0.1 },
    ];
    for (const scorer of [undefined, (sample: Sample) => sample.score ?? 0]) {
      const result = await new SynthesisPipeline({
        config: { targetSize: 5, maxRounds: 1, minScore: 0.5, ...(scorer ? { scorer } : {}) },
      })
        .addStep({ name: "fixed", synthesise: () => outputs })
        .run([]);
      expect(result.filtered).toEqual({ belowScore: 1, duplicate: 1 });
      expect(result.items.map((s) => s.input)).toEqual(["same question"]);
    }
  });

  it("stops after maxRounds when steps only bring duplicates", async () => {
    const step = new DrawStep(5, 1);
    const result = await new SynthesisPipeline({ config: { targetSize: 50, maxRounds: 4 } })
      .addStep(step)
      .run([]);
    expect(step.calls).toBe(4);
    expect(result).toMatchObject({
      rounds: 4,
      stopReason: "max-rounds",
      reachedTarget: false,
      generatedCount: 20,
    });
    expect(result.items).toHaveLength(1);
    expect(result.filtered.duplicate).toBe(19);
  });

  it("stops when a whole round brings nothing", async () => {
    let calls = 0;
    const result = await new SynthesisPipeline({ config: { targetSize: 10 } })
      .addStep({
        name: "empty",
        synthesise: () => {
          calls++;
          return [];
        },
      })
      .run([]);
    expect(calls).toBe(1);
    expect(result.stopReason).toBe("exhausted");
    expect(result.steps[0]?.name).toBe("empty");
  });

  it("scores new samples with at most `concurrency` scorer calls in flight, skipping known duplicates", async () => {
    let inFlight = 0;
    let peak = 0;
    const scored: string[] = [];
    const scorer = async (sample: Sample) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      scored.push(sample.input);
      return sample.input.length % 2 === 0 ? 1 : 0;
    };
    const step = {
      name: "fixed",
      synthesise: () => [
        { input: "aa", output: "" },
        { input: "aaa", output: "" },
        { input: "bb", output: "" },
        { input: "aa", output: "" },
        { input: "cccc", output: "" },
      ],
    };
    const result = await new SynthesisPipeline({
      config: { targetSize: 3, minScore: 0.5, scorer, concurrency: 2, dedupThreshold: 1, maxRounds: 1 },
    })
      .addStep(step)
      .run([{ input: "bb", output: "", score: 1 }]);
    expect(peak).toBeLessThanOrEqual(2);
    expect(result.items.map((s) => s.input)).toEqual(["bb", "aa", "cccc"]);
    expect(result.items.map((s) => s.score)).toEqual([1, 1, 1]);
    expect(scored.sort()).toEqual(["aa", "aaa", "cccc"]);
    expect(result.filtered).toEqual({ belowScore: 1, duplicate: 2 });
  });

  it("scores only unscored seed samples, and not their known duplicates", async () => {
    const scored: string[] = [];
    const result = await new SynthesisPipeline({
      config: {
        minScore: 0.5,
        concurrency: 1,
        scorer: (sample) => {
          scored.push(sample.input);
          return 0.8;
        },
      },
    }).run([
      { input: "first question", output: "a" },
      { input: "first question", output: "a" },
      { input: "second question", output: "b", score: 0.2 },
      { input: "third question", output: "c" },
    ]);
    expect(scored).toEqual(["first question", "third question"]);
    expect(result.items.map((s) => [s.input, s.score])).toEqual([
      ["first question", 0.8],
      ["third question", 0.8],
    ]);
    expect(result.filtered).toEqual({ belowScore: 1, duplicate: 1 });
  });

  it("fails with RewardError when the scorer returns a non-finite score or throws", async () => {
    const pipeline = (scorer: () => number) =>
      new SynthesisPipeline({ config: { scorer } }).run([{ input: "x", output: "y" }]);
    await expect(pipeline(() => Number.NaN)).rejects.toThrow(RewardError);
    await expect(
      pipeline(() => {
        throw new Error("judge down");
      }),
    ).rejects.toMatchObject({ name: "RewardError", cause: { message: "judge down" } });
  });

  it("reports progress up to the end and can be aborted", async () => {
    const events: SynthesisProgress[] = [];
    const result = await new SynthesisPipeline({ config: { targetSize: 30 } })
      .addStep(new DrawStep(10, 1000))
      .run([], { onProgress: (p) => events.push(p) });
    expect(events[0]?.phase).toBe("seed");
    expect(events.at(-1)).toMatchObject({ phase: "done", kept: 30, target: 30, fraction: 1 });
    for (let i = 1; i < events.length; i++) {
      expect((events[i] as SynthesisProgress).kept).toBeGreaterThanOrEqual(
        (events[i - 1] as SynthesisProgress).kept,
      );
    }
    expect(events.some((e) => e.phase === "step" && e.step?.name === "DrawStep")).toBe(true);
    expect(result.items).toHaveLength(30);

    const controller = new AbortController();
    const aborted = new SynthesisPipeline({ config: { targetSize: 1000, maxRounds: 100 } })
      .addStep(new DrawStep(5, 100000))
      .run([], {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.kept >= 20) controller.abort(new Error("enough"));
        },
      });
    await expect(aborted).rejects.toThrow(AbortedError);

    // A slow judge receives the run's signal, so it can stop when the run is aborted.
    const judging = new AbortController();
    const seen: AbortSignal[] = [];
    const run = new SynthesisPipeline({
      config: {
        targetSize: 100,
        scorer: (_sample, { signal }) => {
          seen.push(signal);
          judging.abort();
          return 1;
        },
      },
    })
      .addStep(new DrawStep(5, 1000))
      .run([], { signal: judging.signal });
    await expect(run).rejects.toThrow(AbortedError);
    expect(seen[0]).toBe(judging.signal);
  });

  it("accepts anything with toSamples(), and numbers ids deterministically", async () => {
    const dataset = { toSamples: () => [{ input: "state", output: "action", score: 0.8 }] };
    const result = await new SynthesisPipeline({ config: { targetSize: 3 } })
      .addStep({
        name: "echo",
        synthesise: () => [
          { id: "dup", input: "a", output: "" },
          { id: "dup", input: "b", output: "" },
          { input: "c", output: "" },
        ],
      })
      .run(dataset);
    expect(result.items.map((s) => s.id)).toEqual(["seed-0", "dup", "dup~1"]);
    const more = await new SynthesisPipeline({ config: { targetSize: 5 } })
      .addStep({
        name: "echo",
        synthesise: () => [
          { input: "a", output: "" },
          { input: "b", output: "" },
        ],
      })
      .run([]);
    expect(more.items.map((s) => s.id)).toEqual(["echo-r0-0", "echo-r0-1"]);
  });

  it("reports generator failures in the result", async () => {
    const generator = new GeneratorSynthesiser({
      generate: (prompt, { index }) => {
        if (index === 1) throw new Error("model overloaded");
        return `answer ${index} to ${prompt}`;
      },
      prompt: ({ rng }) => `question ${rng.integer(0, 1e9)}`,
      retries: 1,
      backoff: { initialMs: 0 },
      batchSize: 3,
    });
    const result = await new SynthesisPipeline({ config: { targetSize: 4, maxRounds: 2 } })
      .addStep(generator)
      .run([]);
    expect(result.failedCount).toBe(2);
    expect(result.failures).toEqual([
      { round: 0, step: 0, index: 1, attempts: 2, message: expect.stringContaining("model overloaded") },
      { round: 1, step: 0, index: 1, attempts: 2, message: expect.stringContaining("model overloaded") },
    ]);
    // Round 0: 3 calls, 1 failed; round 1: the 2 still needed, 1 failed.
    expect(result.steps[0]).toMatchObject({
      name: "GeneratorSynthesiser",
      failed: 2,
      generated: 3,
      calls: 2,
    });
    expect(result.items).toHaveLength(3);
    expect(result.stopReason).toBe("max-rounds");
  });

  it("rejects bad configuration and bad step output naming the field", async () => {
    expect(() => new SynthesisPipeline({ config: { dedupThreshold: 2 } })).toThrow(
      expect.objectContaining({ field: "config.dedupThreshold" }),
    );
    expect(() => new SynthesisPipeline({ config: { targetSize: -1 } })).toThrow(
      expect.objectContaining({ field: "config.targetSize" }),
    );
    expect(() => new SynthesisPipeline({ config: { targetSize: 0 } })).toThrow(
      expect.objectContaining({ name: "InvalidArgumentError", field: "config.targetSize" }),
    );
    expect(() => new SynthesisPipeline({ config: { minScore: Number.NaN } })).toThrow(
      expect.objectContaining({ field: "config.minScore" }),
    );
    expect(() => new SynthesisPipeline({ config: { target_size: 3 } as never })).toThrow(
      expect.objectContaining({ field: "config.target_size" }),
    );
    expect(() => new SynthesisPipeline({ config: { dedupKey: "prompt" as never } })).toThrow(
      expect.objectContaining({ field: "config.dedupKey" }),
    );
    expect(() => new SynthesisPipeline().addStep({} as never)).toThrow(
      expect.objectContaining({ field: "steps[0]" }),
    );
    const bad = new SynthesisPipeline({ config: { targetSize: 2 } }).addStep({
      name: "bad",
      synthesise: () => [{ input: "ok", output: "" }, { input: 3, output: "" } as never],
    });
    await expect(bad.run([])).rejects.toMatchObject({ field: "steps[0].output[1].input" });
    await expect(new SynthesisPipeline().run([{ input: "x" }] as never)).rejects.toMatchObject({
      field: "seedData[0].output",
    });
    await expect(new SynthesisPipeline().run(42 as never)).rejects.toThrow(InvalidArgumentError);
    await expect(
      new SynthesisPipeline().run([
        { input: "a", output: "b" },
        { input: "x", output: "y", score: Number.NaN },
      ]),
    ).rejects.toMatchObject({ field: "seedData[1].score" });
  });

  it("refuses a misspelt or mistyped option of the constructor and of run, naming it", async () => {
    const constructed: Array<[unknown, string]> = [
      [{ checkpont: "/tmp/never-written.jsonl" }, "checkpont"],
      [{ durableCheckpoint: "yes" }, "durableCheckpoint"],
      [{ config: null }, "config"],
      [{ steps: "template" }, "steps"],
      [null, "options"],
    ];
    for (const [options, field] of constructed) {
      expect(() => new SynthesisPipeline(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ name: "InvalidArgumentError", field }),
      );
    }
    const pipeline = new SynthesisPipeline({ config: { targetSize: 1 } });
    const ran: Array<[unknown, string]> = [
      [{ onProgres: () => {} }, "onProgres"],
      [{ onProgress: "log" }, "onProgress"],
      [{ signal: {} }, "signal"],
      [{ checkpoint: "" }, "checkpoint"],
      [null, "options"],
    ];
    for (const [options, field] of ran) {
      await expect(pipeline.run([{ input: "a", output: "b" }], options as never)).rejects.toMatchObject({
        name: "InvalidArgumentError",
        field,
      });
    }
  });

  it("wraps an error thrown by a step in a PhaseError naming the step", async () => {
    const failing = new SynthesisPipeline({ config: { targetSize: 2 } }).addStep({
      name: "flaky",
      synthesise: () => {
        throw new TypeError("boom");
      },
    });
    await expect(failing.run([])).rejects.toMatchObject({
      name: "PhaseError",
      phase: "step:flaky",
      message: expect.stringContaining("boom"),
      cause: expect.any(TypeError),
    });
  });

  it("refuses to run twice at once", async () => {
    let release: () => void = () => {};
    const pipeline = new SynthesisPipeline({ config: { targetSize: 1 } }).addStep({
      synthesise: () => new Promise((resolve) => (release = () => resolve([{ input: "a", output: "" }]))),
    });
    const first = pipeline.run([]);
    await expect(pipeline.run([])).rejects.toThrow(InvalidStateError);
    release();
    expect((await first).items).toHaveLength(1);
  });
});
