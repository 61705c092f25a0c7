import { openAiClient } from "@orbiter/test-support";
import type { Sample } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { CHAT_MARKERS, chatTokenizer, encodeChat, renderChat } from "../chat/chat-template.js";
import {
  SKY,
  skyAgent,
  SKY_TOOLS as TOOLS,
  SKY_TASKS as tasks,
  warmSkyPolicy as warmPolicy,
} from "../internal/testing/sky-agent.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import type { RewardSpecInput } from "../rewards/reward-spec.js";
import { fineTuneSequences, SftOptions } from "../sft/supervised-fine-tune.js";
import { VeRLTrainer } from "../trainer/verl-trainer.js";
import type { AgentContext } from "./agent-rollout.js";

const exact: RewardSpecInput = {
  name: "exact",
  fn: (answer, task, { episode }) => {
    expect(episode?.task).toBe(task);
    return answer === SKY[task.id] ? 1 : 0;
  },
};

describe("VeRLTrainer agent mode (openai SDK agent, in-process gateway)", () => {
  beforeAll(async () => {
    await initBackend({ backend: "wasm" });
  });

  it("trains the agent's own loop with GRPO and PPO, reports verl's multi-turn metrics and leaks no tensor", async () => {
    for (const algorithm of ["grpo", "ppo"] as const) {
      const policy = await warmPolicy(3);
      const before = policy.getWeights();
      const trainer = new VeRLTrainer({
        policy,
        config: {
          algorithm,
          batchSize: 2,
          groupSize: algorithm === "grpo" ? 4 : 1,
          epochs: 1,
          maxNewTokens: 20,
          learningRate: 1e-3,
          temperature: 1,
          klCoef: 0,
          seed: 1,
        },
        rewards: [exact],
        agent: skyAgent,
        agentOptions: { maxTurns: 3, concurrency: 8 },
      });
      const first = await trainer.train(tasks);
      const tensors = tf.memory().numTensors;
      const second = await trainer.train(tasks);
      expect(tf.memory().numTensors).toBe(tensors);
      for (const metrics of [first, second]) {
        const extra = metrics.extra ?? {};
        expect(extra["episode/count"]).toBe(algorithm === "grpo" ? 8 : 2);
        expect(extra["num_turns/mean"]).toBeGreaterThanOrEqual(1);
        expect(extra["num_turns/max"]).toBeLessThanOrEqual(3);
        expect(extra["tool_call_counts/mean"]).toBeGreaterThanOrEqual(0);
        expect(extra["episode/success_rate"]).toBeGreaterThanOrEqual(0);
        expect(extra["response_length/mean"]).toBeGreaterThan(0);
        expect(extra["episode/rows"]).toBeGreaterThan(0);
        expect(extra["episode/failed"]).toBe(0);
        if (algorithm === "ppo") expect(Number.isFinite(extra["critic/vf_loss"])).toBe(true);
      }
      // The warm start calls the tool: SFT taught the format, the agent's tool loop ran.
      expect(second.extra?.["tool_call_counts/mean"]).toBeGreaterThanOrEqual(0.5);
      expect(first.extra?.["episode/prefix_breaks"]).toBe(0); // the re-rendered history is what was sampled
      const after = policy.getWeights();
      const changed = [...before].some(([name, weight]) =>
        weight.data.some((value, i) => value !== after.get(name)!.data[i]),
      );
      expect(changed).toBe(true);
      const evaluation = await trainer.evaluateCurrentPolicy(tasks);
      expect(evaluation.outputs).toHaveLength(4);
      expect(evaluation.metrics["eval/num_turns/mean"]).toBeGreaterThanOrEqual(1);
      trainer.dispose();
      policy.dispose();
    }
  }, 120_000);

  it("counts and leaves out timed-out and failing episodes, answers overflowing prompts empty, adds posted rewards", async () => {
    const policy = await warmPolicy(4);
    const agent = async (task: Sample, context: AgentContext): Promise<string> => {
      if (task.id === "hang") return new Promise<string>(() => {}); // ignores its signal: must time out
      if (task.id === "boom") throw new Error("the agent broke");
      if (task.id === "post") {
        const response = await fetch(context.rewardURL, {
          method: "POST",
          headers: { authorization: `Bearer ${context.apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ reward: 0.25, name: "agent" }),
        });
        expect(response.status).toBe(200);
        return "";
      }
      return skyAgent(task, context);
    };
    const special = (id: string, input = `${id}?`): Sample => ({ id, input, output: "", metadata: {} });
    const trainer = new VeRLTrainer({
      policy,
      config: {
        algorithm: "grpo",
        batchSize: 4,
        groupSize: 2,
        epochs: 1,
        maxNewTokens: 20,
        klCoef: 0,
        seed: 2,
      },
      rewards: [{ name: "exact", fn: (answer, task) => (answer === SKY[task.id] ? 1 : 0) }],
      agent,
      agentOptions: { maxTurns: 2, concurrency: 8, episodeTimeoutMs: 400 },
    });
    const metrics = await trainer.train([
      special("hang"),
      special("boom"),
      special("post"),
      special("long", `${"Oslo ".repeat(20)}?`), // the prompt fills the context of 80
    ]);
    const extra = metrics.extra ?? {};
    expect(extra["episode/count"]).toBe(8);
    expect(extra["episode/timeout"]).toBe(2);
    expect(extra["episode/failed"]).toBe(2);
    expect(extra["episode/context_overflow"]).toBe(2);
    expect(extra["episode/cut_short"]).toBe(2);
    // Scored: the two posted (0.25 each) and the two overflowing ones (0): failed ones are left out.
    expect(extra["reward/mean"]).toBeCloseTo(0.125, 6);
    trainer.dispose();
    policy.dispose();
  }, 60_000);

  it("returns a malformed tool call to the agent as text, counts it, and trains on it", async () => {
    const tokenizer = chatTokenizer();
    const policy = new TransformerPolicy({
      tokenizer,
      config: { contextLength: 80, dModel: 32, nHeads: 2, nLayers: 1, dMlp: 64 },
      seed: 5,
    });
    // Teach it a broken call: CALL sky ARGS {"city": (cut JSON), then END.
    const prompt = renderChat([{ role: "user", content: "Oslo?" }], {
      tools: TOOLS,
      addGenerationPrompt: true,
    });
    const ids = encodeChat(
      tokenizer,
      `${prompt}${CHAT_MARKERS.call}sky${CHAT_MARKERS.args}{"city":${CHAT_MARKERS.end}`,
    );
    const start = encodeChat(tokenizer, prompt).length;
    await fineTuneSequences(policy, [{ ids, targetMask: ids.map((_, i) => (i >= start ? 1 : 0)) }], {
      ...SftOptions.parse({ epochs: 60, batchSize: 1, learningRate: 1e-2 }),
    });
    const answers: string[] = [];
    const trainer = new VeRLTrainer({
      policy,
      config: {
        algorithm: "grpo",
        batchSize: 1,
        groupSize: 2,
        epochs: 1,
        maxNewTokens: 20,
        temperature: 0.3,
        klCoef: 0,
      },
      rewards: [
        {
          name: "never",
          fn: (answer) => {
            answers.push(answer);
            return 0;
          },
        },
      ],
      agent: skyAgent,
    });
    const metrics = await trainer.train([tasks[0]!]);
    expect(metrics.extra?.["episode/malformed_tool_calls"]).toBe(2);
    expect(metrics.extra?.["tool_call_counts/mean"]).toBe(0);
    expect(metrics.extra?.["episode/failed"]).toBe(0);
    expect(answers).toEqual(['sky{"city":', 'sky{"city":']); // the text, markers dropped
    expect(metrics.extra?.["episode/rows"]).toBe(2);
    trainer.dispose();
    policy.dispose();
  }, 60_000);

  it("reports the flat GRPO groups and, with filterZeroStdGroups, leaves them out of the update", async () => {
    const policy = new TransformerPolicy({
      tokenizer: chatTokenizer(),
      config: { contextLength: 80, dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32 },
      seed: 9,
    });
    // Task Oslo scores 1 whatever the answer (a flat group); Rome's episodes score 0 or 1 by the sampled answer.
    const answerIs = (episode: number) => (episode % 2 === 0 ? 1 : 0);
    let call = 0;
    const reward: RewardSpecInput = {
      name: "mixed",
      fn: (_answer, task) => (task.id === "Oslo" ? 1 : answerIs(call++)),
    };
    const run = async (filterZeroStdGroups: boolean) => {
      call = 0;
      const trainer = new VeRLTrainer({
        policy,
        config: {
          algorithm: "grpo",
          batchSize: 2,
          groupSize: 2,
          epochs: 1,
          maxNewTokens: 4,
          klCoef: 0,
          filterZeroStdGroups,
          seed: 3,
        },
        rewards: [reward],
        // One model call per episode, so one training row each.
        agent: async (task, context) => {
          const client = openAiClient(context.baseURL, context.apiKey);
          const completion = await client.chat.completions.create(
            { model: context.model, messages: [{ role: "user", content: task.input }] },
            { signal: context.signal },
          );
          return completion.choices[0]?.message.content ?? "";
        },
      });
      try {
        return (await trainer.train([tasks[0]!, tasks[1]!])).extra ?? {};
      } finally {
        trainer.dispose();
      }
    };
    const kept = await run(false);
    expect(kept.frac_reward_zero_std).toBe(0.5);
    expect(kept["episode/rows"]).toBe(4);
    const filtered = await run(true);
    expect(filtered.frac_reward_zero_std).toBe(0.5);
    expect(filtered["episode/rows"]).toBe(2); // only Rome's two episodes
    expect(filtered["reward/mean"]).toBe(0.75); // every scored episode still counts in the reward
    policy.dispose();
  }, 60_000);
});
