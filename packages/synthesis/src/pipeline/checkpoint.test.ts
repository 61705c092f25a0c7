import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CheckpointError } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { fixturePipeline, fixtureSeed } from "../internal/testing/checkpoint-fixture.js";
import { SynthesisPipeline } from "./synthesis-pipeline.js";

const directory = mkdtempSync(join(tmpdir(), "orbiter-synthesis-checkpoint-"));
let counter = 0;
const freshPath = () => join(directory, `run-${counter++}.jsonl`);

describe("checkpoint and resume", () => {
  it("appends accepted samples and markers as JSON lines", async () => {
    const path = freshPath();
    const result = await fixturePipeline(path).run(fixtureSeed);
    const lines = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ kind: "header", version: 1 });
    const samples = lines.filter((l) => l.kind === "sample").map((l) => l.sample);
    expect(samples).toEqual(result.items);
    expect(lines.at(-1)).toMatchObject({ kind: "marker" });
    expect(result.resumed).toBe(false);
  });

  it("a finished run started again returns the same items without calling the steps", async () => {
    const path = freshPath();
    const first = await fixturePipeline(path).run(fixtureSeed);
    let calls = 0;
    const again = fixturePipeline(path);
    for (const step of again.steps) {
      const original = step.synthesise.bind(step);
      (step as { synthesise: typeof step.synthesise }).synthesise = (source, context) => {
        calls++;
        return original(source, context);
      };
    }
    const second = await again.run(fixtureSeed);
    expect(calls).toBe(0);
    expect(second.resumed).toBe(true);
    expect(second.items).toEqual(first.items);
    expect(second.generatedCount).toBe(first.generatedCount);
    expect(second.filtered).toEqual(first.filtered);
  });

  it("a log cut anywhere (mid-line, mid-step) resumes to the uninterrupted result", async () => {
    const reference = await fixturePipeline(undefined).run(fixtureSeed);
    const full = freshPath();
    await fixturePipeline(full).run(fixtureSeed);
    const bytes = readFileSync(full);
    for (const fraction of [0.05, 0.2, 0.37, 0.5, 0.71, 0.93, 0.999]) {
      const cut = freshPath();
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * fraction)));
      const resumed = await fixturePipeline(cut).run(fixtureSeed);
      expect(resumed.items).toEqual(reference.items);
      expect(resumed.generatedCount).toBe(reference.generatedCount);
      expect(resumed.filtered).toEqual(reference.filtered);
      expect(resumed.steps.map((s) => [s.calls, s.generated, s.accepted])).toEqual(
        reference.steps.map((s) => [s.calls, s.generated, s.accepted]),
      );
      // The log itself ends up identical to one written without interruption.
      expect(readFileSync(cut).equals(bytes)).toBe(true);
    }
  });

  it("an aborted run resumes to the uninterrupted result", async () => {
    const reference = await fixturePipeline(undefined).run(fixtureSeed);
    const path = freshPath();
    const controller = new AbortController();
    const aborted = fixturePipeline(path).run(fixtureSeed, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.kept >= 40) controller.abort();
      },
    });
    await expect(aborted).rejects.toMatchObject({ name: "AbortedError" });
    const resumed = await fixturePipeline(path).run(fixtureSeed);
    expect(resumed.resumed).toBe(true);
    expect(resumed.items).toEqual(reference.items);
  });

  it("creates missing parent folders; a durable checkpoint holds the same lines", async () => {
    const path = join(directory, "nested", "deeper", "run.jsonl");
    const result = await fixturePipeline(path).run(fixtureSeed);
    const durable = freshPath();
    await new SynthesisPipeline({ checkpoint: durable, durableCheckpoint: true, config: { targetSize: 2 } })
      .addStep({ name: "one", synthesise: () => [{ input: "a", output: "b" }] })
      .run([{ input: "x", output: "y" }]);
    expect(readFileSync(durable, "utf8").trimEnd().split("\n")).toHaveLength(1 + 2 + 2);
    expect(
      readFileSync(path, "utf8")
        .split("\n")
        .filter((l) => l.includes('"kind":"sample"')),
    ).toHaveLength(result.items.length);
  });

  it("refuses a checkpoint written by a different run, or a file that is not one", async () => {
    const path = freshPath();
    await fixturePipeline(path).run(fixtureSeed);
    await expect(
      fixturePipeline(path).run([...fixtureSeed, { input: "new", output: "seed" }]),
    ).rejects.toThrow(CheckpointError);
    const other = freshPath();
    writeFileSync(other, "hello\n");
    await expect(new SynthesisPipeline({ checkpoint: other }).run([])).rejects.toThrow(CheckpointError);
    const corrupt = freshPath();
    const lines = readFileSync(path, "utf8").split("\n");
    lines[2] = "{not json";
    writeFileSync(corrupt, lines.join("\n"));
    await expect(fixturePipeline(corrupt).run(fixtureSeed)).rejects.toMatchObject({
      name: "CheckpointError",
    });
    // A line of valid JSON that is not a record (`null` on line 1 or later) is corruption too.
    for (const at of [0, 2]) {
      const notRecord = freshPath();
      const copy = readFileSync(path, "utf8").split("\n");
      copy[at] = "null";
      writeFileSync(notRecord, copy.join("\n"));
      await expect(fixturePipeline(notRecord).run(fixtureSeed)).rejects.toMatchObject({
        name: "CheckpointError",
      });
    }
  });
});
