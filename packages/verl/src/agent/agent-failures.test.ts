import { fieldOf } from "@orbiter/test-support";
import { GenerationError, PhaseError, type Sample } from "@orbiter/types";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { VeRLTrainer } from "../trainer/verl-trainer.js";
import type { VeRLTrainerOptions } from "../trainer/verl-trainer-options.js";
import type { AgentContext } from "./agent-rollout.js";

const config = {
  algorithm: "grpo" as const,
  epochs: 1,
  batchSize: 2,
  groupSize: 2,
  maxNewTokens: 4,
  workers: 1,
  model: { dModel: 8, nHeads: 2, nLayers: 1, dMlp: 16 },
};
const rewards = [{ name: "any", fn: () => 1 }];
const tasks: Sample[] = ["a", "b"].map((id) => ({ id, input: `${id}?`, output: "", metadata: {} }));

beforeAll(async () => {
  await initBackend({ backend: "wasm" });
});

describe("agent mode with a broken agent or agent options", () => {
  it("fails the step with the agent's error when no episode of it finished, instead of training on nothing", async () => {
    const broken = async (_task: Sample, _context: AgentContext): Promise<string> => {
      throw new Error("cannot import the tools module");
    };
    const trainer = new VeRLTrainer({
      config,
      rewards,
      agent: broken,
      agentOptions: { maxTurns: 1, concurrency: 4, contextLength: 32 },
    });
    try {
      const error = await trainer.train(tasks).catch((caught: unknown) => caught);
      expect(PhaseError.isInstance(error), String(error)).toBe(true);
      const cause = (error as PhaseError).cause;
      expect(GenerationError.isInstance(cause), String(cause)).toBe(true);
      expect((cause as GenerationError).message).toMatch(
        /all 4 episodes .*failed.*cannot import the tools module/,
      );
      expect(((cause as GenerationError).cause as Error).message).toBe("cannot import the tools module");
      expect(trainer.progress.step).toBe(0);
    } finally {
      await trainer.dispose();
    }
  });

  it("refuses an agent that is not a function, and agent options without an agent, naming the option", () => {
    const cases: Array<[Partial<VeRLTrainerOptions>, string]> = [
      [{ agent: "my-agent" as never }, "agent"],
      [{ agentOptions: { maxTurns: 3 } }, "agentOptions"],
    ];
    for (const [extra, field] of cases) {
      expect(fieldOf(() => new VeRLTrainer({ config, rewards, ...extra }))).toBe(field);
    }
  });

  it("refuses the settings agent mode cannot honour, naming the config field", async () => {
    const agent = async (): Promise<string> => "answer";
    const cases: Array<[Record<string, unknown>, string]> = [
      // RLOO needs fixed groups; an episode's score is a weighted sum plus posted rewards, never z-scored.
      [{ advantageEstimator: "rloo" }, "config.advantageEstimator"],
      [{ rewardCombination: "normalize-then-sum" }, "config.rewardCombination"],
    ];
    for (const [extra, field] of cases) {
      expect(fieldOf(() => new VeRLTrainer({ config: { ...config, ...extra }, rewards, agent }))).toBe(field);
    }
    // The weighted sum, said out loud, is accepted.
    const accepted = new VeRLTrainer({
      config: { ...config, rewardCombination: "weighted-sum" },
      rewards,
      agent,
    });
    expect(accepted.state).toBe("created");
    await accepted.dispose();
  });
});
