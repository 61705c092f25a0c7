import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { captureError } from "@orbiter/test-support";
import { InvalidArgumentError, PhaseError } from "@orbiter/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LinearRegressionTrainer, linePoints } from "../__fixtures__/linear-regression-trainer.js";
import { MetricsLogger, readMetricsLog } from "./metrics-logger.js";

describe("MetricsLogger", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "metrics-log-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const now = () => new Date("2026-01-01T00:00:00.000Z");

  it("writes one JSON line per call, NaN as null, into a new folder", async () => {
    const path = join(dir, "run", "metrics.jsonl");
    const logger = new MetricsLogger({ path, now });
    await logger.logStep(
      1,
      { loss: 0.5, reward: 0.25, learningRate: 1e-4, extra: { kl: 0.01 } },
      { epoch: 0 },
    );
    await logger.logStep(2, { loss: Number.NaN });
    await logger.logEvaluation(2, { loss: 0.4, accuracy: 0.9, steps: 2, extra: {} }, { final: true });
    await logger.logEpoch(0, 2);
    await logger.close();
    const text = await readFile(path, "utf8");
    expect(text.split("\n")).toEqual([
      '{"kind":"step","step":1,"epoch":0,"time":"2026-01-01T00:00:00.000Z","loss":0.5,"reward":0.25,"learningRate":0.0001,"extra":{"kl":0.01}}',
      '{"kind":"step","step":2,"time":"2026-01-01T00:00:00.000Z","loss":null,"extra":{}}',
      '{"kind":"evaluation","step":2,"time":"2026-01-01T00:00:00.000Z","final":true,"loss":0.4,"accuracy":0.9,"extra":{}}',
      '{"kind":"epoch","step":2,"epoch":0,"time":"2026-01-01T00:00:00.000Z","extra":{}}',
      "",
    ]);
    expect(logger.count).toBe(4);
    const records = await readMetricsLog(path);
    expect(records.map((record) => [record.kind, record.step, record.loss])).toEqual([
      ["step", 1, 0.5],
      ["step", 2, null],
      ["evaluation", 2, 0.4],
      ["epoch", 2, undefined],
    ]);
  });

  it("batches lines logged without waiting, keeps their order, and starts the file afresh unless appending", async () => {
    const path = join(dir, "metrics.jsonl");
    await writeFile(path, "old line\n");
    const logger = new MetricsLogger({ path, now });
    await Promise.all(Array.from({ length: 100 }, (_, index) => logger.logStep(index + 1, { loss: index })));
    const steps = (await readMetricsLog(path)).map((record) => record.step);
    expect(steps).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
    await logger.close();
    await logger.logStep(101, { loss: 1 }); // re-opens in append mode
    await logger.close();
    const appending = new MetricsLogger({ path, now, append: true });
    await appending.logStep(102, { loss: 1 });
    await appending.close();
    expect((await readMetricsLog(path)).map((record) => record.step).slice(-3)).toEqual([100, 101, 102]);
  });

  it("rejects a missing path and reports a bad line by number", async () => {
    expect(() => new MetricsLogger({ path: "" })).toThrow(InvalidArgumentError);
    const path = join(dir, "bad.jsonl");
    await writeFile(path, '{"kind":"step","step":1,"extra":{}}\n\n[1,2]\n');
    const caught = await captureError(readMetricsLog(path));
    expect(InvalidArgumentError.isInstance(caught) && caught.line).toBe(3);
  });

  it("rejects the caller of a failed write but keeps writing later lines", async () => {
    const blocker = join(dir, "file");
    await writeFile(blocker, "");
    const logger = new MetricsLogger({ path: join(blocker, "metrics.jsonl") });
    await expect(logger.logStep(1, { loss: 1 })).rejects.toThrow();
    await expect(logger.logStep(2, { loss: 1 })).rejects.toThrow();
    await expect(logger.flush()).resolves.toBeUndefined();
    await logger.close();
    const good = new MetricsLogger({ path: join(dir, "ok.jsonl") });
    await good.logStep(1, { loss: 1 });
    await good.close();
    expect(good.count).toBe(1);
  });

  it("keeps the lines of a failed write and writes them, in order, once the file can be written", async () => {
    const folder = join(dir, "later");
    await writeFile(folder, ""); // a file where the log's folder should be: every write fails
    const logger = new MetricsLogger({ path: join(folder, "metrics.jsonl"), now });
    await expect(logger.logStep(1, { loss: 1 })).rejects.toThrow();
    await expect(logger.logStep(2, { loss: 2 })).rejects.toThrow();
    await rm(folder);
    await logger.logStep(3, { loss: 3 });
    await logger.close();
    const records = await readMetricsLog(join(folder, "metrics.jsonl"));
    expect(records.map((record) => [record.step, record.loss])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(logger.count).toBe(3);
  });

  it("fails the training phase when the trainer's metrics log cannot be written", async () => {
    const blocker = join(dir, "not-a-folder");
    await writeFile(blocker, "");
    const trainer = new LinearRegressionTrainer({
      dataset: linePoints(6),
      config: { batchSize: 2 },
      metricsLogPath: join(blocker, "metrics.jsonl"),
    });
    const error = await trainer.run().catch((caught: unknown) => caught);
    expect(PhaseError.isInstance(error) && error.phase).toBe("training");
    // mkdir reports EEXIST (a file is in the way) or ENOTDIR, depending on the platform.
    expect(((error as PhaseError).cause as NodeJS.ErrnoException).code).toMatch(/^(EEXIST|ENOTDIR)$/);
    expect(trainer.state).toBe("error");
  });

  it("logs one line per step of a trainer given metricsLogPath, plus epochs and evaluations", async () => {
    const path = join(dir, "train.jsonl");
    const trainer = new LinearRegressionTrainer({
      dataset: linePoints(6),
      config: { batchSize: 2, epochs: 2, evalEvery: 3 },
      metricsLogPath: path,
    });
    await trainer.run();
    await trainer.metricsLogger?.flush();
    const records = await readMetricsLog(path);
    expect(records.map((record) => `${record.kind}:${record.step}`)).toEqual([
      "step:1",
      "step:2",
      "step:3",
      "evaluation:3",
      "epoch:3",
      "step:4",
      "step:5",
      "step:6",
      "evaluation:6",
      "epoch:6",
      "evaluation:6",
    ]);
    expect(records.at(-1)?.final).toBe(true);
    expect(records[0]?.extra.gradNorm).toBeGreaterThan(0);
  });
});
