import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SeededRandom } from "@orbiter/types";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Trainer } from "../trainer/trainer.js";
import { TRAINER_STATE_FILE } from "./checkpoint-manifest.js";

/** A trainer whose generator can be read, to see that the checkpoint's state was restored. */
class PlainTrainer extends Trainer<string[]> {
  async train() {
    return { loss: 1 };
  }
  async evaluate() {
    return { loss: 1 };
  }
  nextRandom(): number {
    return this.rng.next();
  }
}

/** The fields of a `trainer-state.json` (format 1) that carry encoded numbers and the generator, as written. */
const written = {
  rng: { algorithm: "xoroshiro128plus", words: [11, -22, 33, -44], spareNormal: 0.25 },
  metrics: {
    train: { loss: "NaN", reward: "-Infinity", steps: 3, extra: { kl: "Infinity", ok: 1 } },
    evaluation: { loss: 0.5, accuracy: -0.25, steps: 3, extra: {} },
  },
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "trainer-core-format-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("trainer-state.json, format 1", () => {
  it("reads a manifest written earlier and writes the same numbers and generator state back", async () => {
    const old = join(dir, "old");
    await mkdir(old);
    const manifest = {
      format: "orbiter.trainer-checkpoint",
      version: 1,
      trainer: "PlainTrainer",
      savedAt: "2026-11-01T10:00:00.000Z",
      state: "trained",
      progress: { step: 3, epoch: 1 },
      config: { epochs: 1 },
      ...written,
      custom: null,
    };
    await writeFile(join(old, TRAINER_STATE_FILE), `${JSON.stringify(manifest, null, 2)}\n`);

    const trainer = new PlainTrainer({ config: { epochs: 1 } });
    await trainer.resume(old);
    expect(trainer.progress).toEqual({ step: 3, epoch: 1, totalSteps: undefined });
    expect(trainer.lastMetrics.train).toEqual({
      loss: Number.NaN,
      reward: Number.NEGATIVE_INFINITY,
      steps: 3,
      extra: { kl: Number.POSITIVE_INFINITY, ok: 1 },
    });
    const expected = SeededRandom.fromState({ ...written.rng, algorithm: "xoroshiro128plus" });
    expect(trainer.nextRandom()).toBe(expected.next());

    const again = join(dir, "again");
    const fresh = new PlainTrainer({ config: { epochs: 1 } });
    await fresh.resume(old);
    await fresh.saveCheckpoint(again);
    const rewritten = JSON.parse(await readFile(join(again, TRAINER_STATE_FILE), "utf8"));
    expect({ rng: rewritten.rng, metrics: rewritten.metrics }).toEqual(written);
  });
});
