import { InvalidStateError } from "@orbiter/types";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { tinyGrpoConfig } from "../internal/testing/tiny-trainer-config.js";
import { VeRLTrainer } from "./verl-trainer.js";

const prompts = ["ab", "ba"];
const countA = { name: "count-a", fn: (output: string) => [...output].filter((c) => c === "a").length };
const config = tinyGrpoConfig;

beforeAll(async () => {
  await initBackend();
});

/** Expects `call` to reject with an InvalidStateError that names dispose() and the operation. */
async function expectRefused(call: () => Promise<unknown>, operation: string): Promise<void> {
  const error = await call().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(InvalidStateError.isInstance(error), String(error)).toBe(true);
  expect((error as Error).message).toContain(`${operation} after dispose()`);
}

describe("VeRLTrainer after dispose()", () => {
  it("refuses train, evaluate, validate, resume and evaluateCurrentPolicy on a trained trainer, before any phase", async () => {
    const trainer = new VeRLTrainer({ config, rewards: [countA], dataset: prompts });
    await trainer.train();
    expect(trainer.state).toBe("trained");
    const policy = trainer.policy;
    await trainer.dispose();
    expect(policy?.disposed).toBe(true);
    await expectRefused(() => trainer.train(), "train()");
    await expectRefused(() => trainer.train(prompts), "train()");
    await expectRefused(() => trainer.evaluate(), "evaluate()");
    await expectRefused(() => trainer.evaluateCurrentPolicy(), "evaluateCurrentPolicy()");
    await expectRefused(() => trainer.validate(), "validate()");
    await expectRefused(() => trainer.resume("/nonexistent"), "resume()");
    // No phase ran: the trainer is not moved to the terminal error state.
    expect(trainer.state).toBe("trained");
    expect(trainer.progress.step).toBe(1);
  });

  it("refuses them on an unused trainer too, without building a policy", async () => {
    const trainer = new VeRLTrainer({ config, rewards: [countA], dataset: prompts });
    await trainer.dispose();
    await expectRefused(() => trainer.train(), "train()");
    await expectRefused(() => trainer.run(), "validate()");
    await expectRefused(() => trainer.evaluateCurrentPolicy(prompts), "evaluateCurrentPolicy()");
    expect(trainer.policy).toBeUndefined();
    expect(trainer.state).toBe("created");
  });
});
