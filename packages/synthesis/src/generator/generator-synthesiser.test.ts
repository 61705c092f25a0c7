import { AbortedError, GenerationError } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { GeneratorSynthesiser } from "./generator-synthesiser.js";

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("GeneratorSynthesiser", () => {
  it("keeps call order whatever the completion order, under the concurrency cap", async () => {
    let inFlight = 0;
    let peak = 0;
    const synthesiser = new GeneratorSynthesiser({
      generate: async (prompt, { index }) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await wait((7 * index) % 5);
        inFlight--;
        return `${prompt} -> ${index}`;
      },
      prompt: ["p0", "p1", "p2"],
      concurrency: 3,
    });
    const { samples, failures, attempts } = await synthesiser.generate(10);
    expect(peak).toBe(3);
    expect(failures).toEqual([]);
    expect(attempts).toBe(10);
    expect(samples.map((s) => s.output)).toEqual(Array.from({ length: 10 }, (_, i) => `p${i % 3} -> ${i}`));
    expect(samples.map((s) => s.input)).toEqual(Array.from({ length: 10 }, (_, i) => `p${i % 3}`));
    expect(samples.map((s) => s.id)).toEqual(Array.from({ length: 10 }, (_, i) => `generated-${i}`));
    expect(samples[0]?.metadata).toEqual({ source: "generator", attempts: 1 });
    const next = await synthesiser.generate(1);
    expect(next.samples[0]?.id).toBe("generated-10");
    // The list of prompts continues across batches.
    expect(next.samples[0]?.input).toBe("p1");
  });

  it("names the call whose prompt function threw, as a GenerationError carrying the thrown error", async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'input')");
    let generated = 0;
    const synthesiser = new GeneratorSynthesiser({
      generate: () => {
        generated++;
        return "text";
      },
      prompt: ({ index }) => {
        if (index === 2) throw bug;
        return `prompt ${index}`;
      },
      concurrency: 1,
    });
    const error = await synthesiser.generate(4).catch((caught: unknown) => caught);
    expect(GenerationError.isInstance(error)).toBe(true);
    expect((error as GenerationError).message).toBe(
      "The prompt function threw for call 2 (ordinal 2): Cannot read properties of undefined (reading 'input')",
    );
    expect((error as GenerationError).cause).toBe(bug);
    expect(generated).toBe(2);
  });

  it("retries with exponential back-off, then succeeds once", async () => {
    const calls: number[] = [];
    const synthesiser = new GeneratorSynthesiser({
      generate: (_prompt, { attempt }) => {
        calls.push(performance.now());
        if (attempt < 3) throw new Error(`rate limited (${attempt})`);
        return "fine";
      },
      prompt: "x",
      retries: 3,
      backoff: { initialMs: 20, factor: 2, jitter: 0 },
    });
    const { samples, failures, attempts } = await synthesiser.generate(1);
    expect(samples).toHaveLength(1);
    expect(samples[0]?.metadata.attempts).toBe(3);
    expect(failures).toEqual([]);
    expect(attempts).toBe(3);
    expect(calls).toHaveLength(3);
    expect((calls[1] as number) - (calls[0] as number)).toBeGreaterThanOrEqual(19);
    expect((calls[2] as number) - (calls[1] as number)).toBeGreaterThanOrEqual(39);
  });

  it("counts and reports a call that keeps failing, never dropping or repeating a sample", async () => {
    let calls = 0;
    const synthesiser = new GeneratorSynthesiser({
      generate: (prompt, { index }) => {
        calls++;
        if (index === 2) throw new Error("server error 500");
        return `ok ${prompt}`;
      },
      prompt: ({ index }) => `q${index}`,
      retries: 2,
      backoff: { initialMs: 0 },
    });
    const { samples, failures, attempts } = await synthesiser.generate(4);
    expect(samples.map((s) => s.input)).toEqual(["q0", "q1", "q3"]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ index: 2, attempts: 3 });
    expect(failures[0]?.error).toBeInstanceOf(GenerationError);
    expect(failures[0]?.message).toContain("server error 500");
    expect(calls).toBe(3 + 3);
    expect(attempts).toBe(6);
  });

  it("times out a slow attempt, retries, and never uses the late answer", async () => {
    const signals: AbortSignal[] = [];
    const synthesiser = new GeneratorSynthesiser({
      generate: async (_prompt, { attempt, signal }) => {
        signals.push(signal);
        if (attempt === 1) {
          await wait(80);
          return "late";
        }
        return "on time";
      },
      prompt: "x",
      timeoutMs: 20,
      backoff: { initialMs: 0 },
    });
    const { samples } = await synthesiser.generate(1);
    await wait(100);
    expect(samples.map((s) => s.output)).toEqual(["on time"]);
    expect(signals[0]?.aborted).toBe(true);
  });

  it("parses text into samples, retrying text it rejects; accepts sample-like objects", async () => {
    let call = 0;
    const parsing = new GeneratorSynthesiser({
      generate: () => (call++ === 0 ? "garbage" : "Q: What is 3 * 3?\nA: 9"),
      prompt: "Write a multiplication question",
      parse: (text) => {
        const match = text.match(/^Q: (.*)\nA: (.*)$/);
        return match ? { input: match[1] as string, output: match[2] as string } : null;
      },
      backoff: { initialMs: 0 },
    });
    const parsed = await parsing.generate(1);
    expect(parsed.samples[0]).toMatchObject({
      input: "What is 3 * 3?",
      output: "9",
      metadata: { attempts: 2 },
    });

    const objects = new GeneratorSynthesiser({
      generate: (prompt) => ({ output: `re: ${prompt}`, score: 0.4, metadata: { model: "tiny" } }),
      prompt: () => ({ input: "hello", metadata: { topic: "greeting" } }),
    });
    expect((await objects.generate(1)).samples[0]).toMatchObject({
      input: "hello",
      output: "re: hello",
      score: 0.4,
      metadata: { source: "generator", topic: "greeting", model: "tiny" },
    });
  });

  it("stops on abort and passes the signal to the generator", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const synthesiser = new GeneratorSynthesiser({
      generate: async (_prompt, { signal }) => {
        seen = signal;
        await wait(5);
        controller.abort();
        throw new Error("cancelled");
      },
      prompt: "x",
      concurrency: 1,
    });
    await expect(synthesiser.generate(5, { signal: controller.signal })).rejects.toThrow(AbortedError);
    // The generator gets a signal that follows the run's (and the attempt's time limit).
    expect(seen?.aborted).toBe(true);
  });

  it("stops on abort even when the generator ignores its signal", async () => {
    const controller = new AbortController();
    const synthesiser = new GeneratorSynthesiser({
      // Never answers, and never looks at its signal.
      generate: () => new Promise<string>(() => {}),
      prompt: "x",
    });
    const pending = synthesiser.generate(2, { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(pending).rejects.toThrow(AbortedError);
  });

  it("rejects bad options naming the field", () => {
    expect(() => new GeneratorSynthesiser({ generate: () => "", prompt: "x", concurrency: 0 })).toThrow(
      expect.objectContaining({ field: "concurrency" }),
    );
    expect(() => new GeneratorSynthesiser({ prompt: "x" } as never)).toThrow(
      expect.objectContaining({ field: "generate" }),
    );
    expect(() => new GeneratorSynthesiser({ generate: () => "", prompt: [] })).toThrow(
      expect.objectContaining({ field: "prompt" }),
    );
    expect(() => new GeneratorSynthesiser({ generate: () => "", prompt: "x", retries: -1 })).toThrow(
      expect.objectContaining({ field: "retries" }),
    );
  });

  it("refuses a count that is not a non-negative integer, naming it, before any call", async () => {
    let calls = 0;
    const synthesiser = new GeneratorSynthesiser({ generate: () => `${++calls}`, prompt: "x" });
    for (const count of [-1, 1.5, Number.NaN]) {
      await expect(synthesiser.generate(count)).rejects.toThrow(
        expect.objectContaining({
          field: "count",
          value: count,
          message: expect.stringContaining("non-negative"),
        }),
      );
    }
    expect(calls).toBe(0);
    expect((await synthesiser.generate(0)).samples).toEqual([]);
  });
});
