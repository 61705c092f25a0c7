import pinned from "./verl-keys/verl-0.7.0-ppo-trainer-keys.json" with { type: "json" };

/** The verl release the job mapping targets, and the commit its config keys were read from. */
export const VERL_VERSION = {
  /** The `pip install verl==…` version. */
  version: pinned.verl,
  /** Git tag of the release. */
  tag: pinned.tag,
  /** Commit of the tag. */
  commit: pinned.commit,
} as const;

/**
 * Every config key of the pinned verl's PPO trainer (`verl/trainer/config/_generated_ppo_trainer.yaml`, flattened
 * with dots). `run_verl.sh` only ever overrides keys from this list.
 */
export const VERL_CONFIG_KEYS: ReadonlySet<string> = new Set(pinned.keys);
