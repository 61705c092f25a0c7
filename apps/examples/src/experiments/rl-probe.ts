/**
 * One RL run of the demo from the SFT checkpoint of a demo output folder, with the demo's own configuration
 * (`rlConfig`) and any config field overridden, then a greedy evaluation on the test and validation splits. It
 * prints one JSON line: accuracies, failure classes, training reward of the first and last five steps, CPU time.
 * The README's table "Why RL lost points from this start" was made with it, one process per cell:
 *
 * ```sh
 * pnpm --filter @orbiter/examples probe:rl '{"out":"/tmp/run","algorithm":"ppo","steps":20,"lr":5e-5,"seed":8}'
 * pnpm --filter @orbiter/examples probe:rl '{"out":"/tmp/run","lr":1e-4,"set":{"klCoef":0.05}}'
 * pnpm --filter @orbiter/examples probe:rl '{"out":"/tmp/run","lr":1e-4,"focus":4,"repeat":3}'
 * ```
 *
 * Fields: `out` (required: a folder where `pnpm demo --phase sft` has run), `algorithm` (`grpo`), `steps` (40),
 * `lr` (5e-5), `kl` (0.01), `temperature` (1), `seed` (7: the RL seed derives from it as in the demo), `batchSize`
 * (8), `groupSize` (8), `set` (config fields set last, e.g. `{"criticWarmupSteps":10}`), `focus` (sample every
 * training request this many times with the SFT policy first, and add the requests with a failed episode `repeat`
 * (3) more times to the prompts) and `before` (also evaluate the SFT checkpoint).
 */
import { deriveSeed, InvalidArgumentError, type Sample } from "@orbiter/types";
import { evaluateAgent, initBackend, type Policy, VeRLTrainer } from "@orbiter/verl";
import { runCommand } from "../command-line.js";
import { demoPaths } from "../demo/demo-paths.js";
import {
  AGENT_OPTIONS,
  evaluateGreedy,
  MAX_TURN_TOKENS,
  TRAVEL_AGENT,
  VERIFIER_REWARD,
} from "../demo/evaluation.js";
import { loadPolicy } from "../demo/policy-factory.js";
import { rlConfig } from "../demo/rl-training.js";
import { readSamples } from "../demo/sample-files.js";
import { isReferenceAnswer } from "../demo/travel-world.js";

/** The training requests with at least one failed episode in `count` sampled episodes of the policy each. */
async function failedWhenSampled(
  policy: Policy,
  train: Sample[],
  count: number,
  temperature: number,
): Promise<Sample[]> {
  const sampled = await evaluateAgent({
    policy,
    agent: TRAVEL_AGENT,
    rewards: [VERIFIER_REWARD],
    samples: train,
    config: { maxNewTokens: MAX_TURN_TOKENS, temperature },
    agentOptions: AGENT_OPTIONS,
    options: { greedy: false, samplesPerPrompt: count, seed: 11 },
  });
  const failed = new Set<string>();
  for (const episode of sampled.episodes) {
    const right = episode.status === "ok" && isReferenceAnswer(episode.task.input, episode.answer);
    if (!right) failed.add(episode.task.input);
  }
  return train.filter((sample) => failed.has(sample.input));
}

async function main(raw: string | undefined): Promise<void> {
  let args: Record<string, unknown>;
  try {
    args = JSON.parse(raw ?? "") as Record<string, unknown>;
  } catch (error) {
    throw new InvalidArgumentError('probe:rl takes one JSON object, e.g. \'{"out":"/tmp/run"}\'', {
      field: "argv",
      cause: error,
    });
  }
  if (typeof args.out !== "string") {
    throw new InvalidArgumentError("probe:rl needs out: a demo output folder with an SFT checkpoint", {
      field: "out",
    });
  }
  const algorithm = args.algorithm === "ppo" ? "ppo" : "grpo";
  const number = (key: string, fallback: number): number => {
    const value = args[key];
    return typeof value === "number" ? value : fallback;
  };
  const settings = {
    learningRate: number("lr", 5e-5),
    klCoef: number("kl", 0.01),
    temperature: number("temperature", 1),
  };
  await initBackend({ backend: "wasm" });
  const paths = demoPaths(args.out);
  const train = await readSamples(paths.datasets.train);
  const test = await readSamples(paths.datasets.test);
  const validation = await readSamples(paths.datasets.validation);
  const policy = await loadPolicy(paths.checkpoints.sft);
  const started = process.cpuUsage();
  try {
    const result: Record<string, unknown> = { args };
    if (args.before === true) {
      result.before = {
        test: (await evaluateGreedy(policy, test)).accuracy,
        validation: (await evaluateGreedy(policy, validation)).accuracy,
      };
    }
    let samples = train;
    if (typeof args.focus === "number") {
      const hard = await failedWhenSampled(policy, train, args.focus, settings.temperature);
      samples = [...train, ...Array.from({ length: number("repeat", 3) }, () => hard).flat()];
      result.focus = { failedRequests: hard.length, prompts: samples.length };
    }
    const rewards: number[] = [];
    const config = {
      ...rlConfig({
        algorithm,
        samples,
        settings,
        steps: number("steps", 40),
        batchSize: number("batchSize", 8),
        groupSize: number("groupSize", 8),
        seed: deriveSeed(number("seed", 7), algorithm),
      }),
      ...((args.set ?? {}) as Record<string, unknown>),
    };
    const trainer = new VeRLTrainer({
      policy,
      config,
      rewards: [VERIFIER_REWARD],
      agent: TRAVEL_AGENT,
      agentOptions: AGENT_OPTIONS,
      onStep: ({ metrics }) => {
        rewards.push(metrics.reward ?? Number.NaN);
      },
    });
    try {
      await trainer.train([...samples]);
    } finally {
      await trainer.dispose();
    }
    const after = await evaluateGreedy(policy, test);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    const cpu = process.cpuUsage(started);
    Object.assign(result, {
      test: after.accuracy,
      validation: (await evaluateGreedy(policy, validation)).accuracy,
      failures: after.failures,
      rewardFirstLast5: [mean(rewards.slice(0, 5)), mean(rewards.slice(-5))],
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    policy.dispose();
  }
}

await runCommand("probe:rl", () => main(process.argv[2]));
