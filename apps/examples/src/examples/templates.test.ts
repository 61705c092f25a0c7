import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type TemplatesResult } from "./templates.js";

let dir: string;
let result: TemplatesResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "example-templates-"));
  result = await main({ dir, log: () => {} });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("templates example", () => {
  it("fills every placeholder of the guide's templates", () => {
    expect(result.items).toHaveLength(50);
    for (const item of result.items) {
      expect(item.input).not.toMatch(/[{}]/);
      expect(item.metadata.source).toBe("template");
    }
    expect(result.size).toBe(3 + 3 + 2 * 2);
    expect([...result.counts.keys()].sort()).toEqual(
      [
        "Explain Python in simple terms",
        "Explain JavaScript in simple terms",
        "Explain Rust in simple terms",
        "What are the pros and cons of Python?",
        "What are the pros and cons of JavaScript?",
        "What are the pros and cons of Rust?",
        "Compare REST with gRPC",
        "Compare REST with WebSocket",
        "Compare GraphQL with gRPC",
        "Compare GraphQL with WebSocket",
      ].sort(),
    );
  });

  it("uses every combination once per pass before repeating", () => {
    for (let pass = 0; pass < 5; pass++) {
      const block = result.items.slice(pass * 10, pass * 10 + 10).map((item) => item.input);
      expect(new Set(block).size, `pass ${pass}`).toBe(10);
    }
    expect([...result.counts.values()]).toEqual(Array(10).fill(5));
  });

  it("derives verifiably correct answers for question / answer templates", () => {
    expect(result.qa).toHaveLength(24);
    expect(new Set(result.qa.map((sample) => sample.input)).size).toBe(24);
    for (const sample of result.qa) {
      const plus = /^What is (\d+) \+ (\d+)\?$/.exec(sample.input);
      const times = /^What is (\d+) times (\d+)\?$/.exec(sample.input);
      const expected = plus
        ? Number(plus[1]) + Number(plus[2])
        : times
          ? Number(times[1]) * Number(times[2])
          : Number.NaN;
      expect(sample.output, sample.input).toBe(String(expected));
    }
  });

  it("is reproducible from its seed, and another seed gives another order", async () => {
    const again = await main({ dir: await mkdtemp(join(dir, "again-")), log: () => {} });
    expect(again.items).toEqual(result.items);
    const other = await main({ dir: await mkdtemp(join(dir, "other-")), seed: 2, log: () => {} });
    expect(other.items.map((item) => item.input)).not.toEqual(result.items.map((item) => item.input));
  });

  it("writes both sets as JSON Lines", async () => {
    const prompts = (await readFile(result.files.prompts, "utf8"))
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(prompts).toEqual(result.items);
    const qa = (await readFile(result.files.qa, "utf8")).trimEnd().split("\n");
    expect(qa).toHaveLength(24);
  });
});
