import type { VeRLConfig } from "@orbiter/verl";
import { LOCAL_ONLY_SETTINGS } from "./verl-settings.js";
import { VERL_VERSION } from "./verl-version.js";

/** What the job README describes. */
export interface JobReadmeFacts {
  model: string;
  nodes: number;
  gpusPerNode: number;
  trainRows: number;
  valRows: number | undefined;
  totalSteps: number;
  rewardUrl: string | undefined;
  rewards: ReadonlyArray<{ name: string; weight: number }>;
  config: VeRLConfig;
  rollout: string;
}

/** The job's README.md: what it runs, how to start it, where the metrics appear. */
export function renderJobReadme(facts: JobReadmeFacts): string {
  const { config } = facts;
  const rewards =
    facts.rewards.length === 0
      ? "the rewards you serve"
      : facts.rewards.map((reward) => `\`${reward.name}\` (weight ${reward.weight})`).join(", ");
  return `# verl job: ${config.algorithm.toUpperCase()} on ${facts.model}

Written by \`exportVerlJob\` from @orbiter/handoff for **verl ${VERL_VERSION.version}** (tag ${VERL_VERSION.tag},
commit ${VERL_VERSION.commit}). ${facts.trainRows} training prompts${facts.valRows === undefined ? "" : ` and ${facts.valRows} validation prompts`},
${config.epochs} epoch(s), ${facts.totalSteps} optimiser steps of ${config.batchSize} prompts × ${config.groupSize} responses,
on ${facts.nodes} node(s) × ${facts.gpusPerNode} GPU(s), rollouts with ${facts.rollout}.

| file | what |
| --- | --- |
| \`train.parquet\`${facts.valRows === undefined ? "" : ", `val.parquet`"} | verl's RL rows: data_source, prompt (chat messages), ability, reward_model, extra_info |
| \`reward_fn.py\` | \`compute_score\`: posts each response to the reward server (standard library only) |
| \`run_verl.sh\` | \`python3 -m verl.trainer.main_ppo\` with the Hydra overrides mapped from VeRLConfig |
| \`manifest.json\` | sha256 and rows of every file, the source config and every override |

## Run it

1. On every node: \`pip install verl==${VERL_VERSION.version}\` with ${facts.rollout} (verl's install guide), and put this
   folder at the same path on every node (a shared file system, or copy it).
2. Start Ray: \`ray start --head\` on the head node, \`ray start --address=<head>:6379\` on the others.
3. Serve the rewards (${rewards}) from a machine the GPU nodes can reach, with a key:
   \`serveRewards(rewards, { host: "0.0.0.0", port: 8700, apiKey })\` in Node.
4. On the head node: \`export ORBITER_REWARD_URL=${facts.rewardUrl ?? "http://<reward host>:8700"} ORBITER_REWARD_API_KEY=<key>\`
   (export them before \`ray start\` on every node, or write the key to \`reward_api_key\` beside \`reward_fn.py\`), then
   \`bash run_verl.sh\`. More Hydra overrides may follow on the command line.

## Metrics

verl logs under the names our trainer reports: \`actor/pg_loss\`, \`actor/pg_clipfrac\`, \`actor/ppo_kl\`,
\`actor/entropy\`, \`actor/kl_loss\`, \`actor/grad_norm\`, \`actor/lr\`, \`critic/vf_loss\`, \`critic/advantages/mean\`,
\`response_length/mean\`; the combined reward, our \`reward/mean\`, is verl's \`critic/score/mean\`. The trainer
loggers are set to \`console\`; add \`'trainer.logger=[console,wandb]'\` to send them to Weights & Biases.

## Not part of the job

${Object.entries(LOCAL_ONLY_SETTINGS)
  .map(([field, why]) => `- \`${field}\`: ${why}.`)
  .join("\n")}
- verl warms the learning rate up from 0 at step 0 where our trainer starts at lr / warmupSteps, and clamps the
  k3 (\`low_var_kl\`) estimate to [-10, 10].
`;
}
