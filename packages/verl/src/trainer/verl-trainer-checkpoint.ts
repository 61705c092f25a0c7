import { join } from "node:path";
import { CheckpointError } from "@orbiter/types";
import { type AdvantageScaleSetting, resumedAdvantageScale } from "../config/advantage-scale.js";
import { resumedCriticMode } from "../config/critic-mode.js";
import type { VeRLConfig } from "../config/verl-config.js";
import type { Policy } from "../model/policy.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import type { AdamOptimizer, AdamState } from "../optim/adam-optimizer.js";
import { loadCheckpoint, saveCheckpoint } from "./training-checkpoint.js";

const POLICY_DIR = "policy";
const REFERENCE_DIR = "reference";

/** The trainer state a VeRLTrainer checkpoint keeps beside the weights (trainer-core's `custom` JSON). */
export interface VeRLCheckpointState {
  /** The KL coefficient β at the time of the checkpoint. */
  klCoef?: number;
  /** The learning-rate scale of the policy-space trust region (`desiredKl`) for the next step. */
  learningRateScale?: number;
  /** Mini-batch updates skipped so far. */
  skippedUpdates?: number;
  /** A reference model was saved in `reference/`. */
  hasReference?: boolean;
  /** The optimiser state was saved beside the policy. */
  hasOptimizer?: boolean;
  /**
   * The data cursor: the order of epoch e is a seeded shuffle of `samples` indices (seed, "epoch", e) and step s
   * takes batch s mod stepsPerEpoch of it, so the step counter and the dataset size locate it exactly. Sampling
   * and mini-batch seeds derive from (seed, step) the same way.
   */
  dataSize?: number | null;
  /** The critic mode the run trained with (`VeRLConfig.critic` once resolved): a resumed `"auto"` keeps it. */
  critic?: string;
  /** `VeRLConfig.normalizeAdvantageStd` as the run resolved it: a resumed `"auto"` keeps it. */
  normalizeAdvantageStd?: AdvantageScaleSetting;
  /** `VeRLConfig.whitenAdvantages` as the run resolved it: a resumed `"auto"` keeps it. */
  whitenAdvantages?: AdvantageScaleSetting;
}

/** The settings a run resolves when training starts (`"auto"` critic and advantage scaling), to record. */
export function resolvedSettings(config: VeRLConfig) {
  const { critic, normalizeAdvantageStd, whitenAdvantages } = config;
  return { critic, normalizeAdvantageStd, whitenAdvantages } satisfies VeRLCheckpointState;
}

/**
 * Sets the settings a run resolves, in place, to what a resumed run trains with: each `configured` one (as the
 * trainer was given it, before any run resolved it), an `"auto"` taking the value the checkpoint recorded — the
 * critic mode, and the advantage scaling: the run goes on as it started, although its Adam now resumes from
 * saved moments (see `resumedCriticMode`, `resumedAdvantageScale`).
 */
export function resumeResolvedSettings(
  config: VeRLConfig,
  configured: ReturnType<typeof resolvedSettings>,
  state: VeRLCheckpointState,
): void {
  config.critic = resumedCriticMode(configured.critic, state.critic);
  config.normalizeAdvantageStd = resumedAdvantageScale(
    configured.normalizeAdvantageStd,
    state.normalizeAdvantageStd,
  );
  config.whitenAdvantages = resumedAdvantageScale(configured.whitenAdvantages, state.whitenAdvantages);
}

/** What a VeRLTrainer checkpoint holds. */
export interface VeRLCheckpointContents {
  /** The policy under training. */
  policy: Policy;
  /** Its optimiser, once training has started. */
  optimizer?: AdamOptimizer | undefined;
  /** The frozen reference model of the KL term, when there is one. */
  reference?: Policy | null | undefined;
}

/** Writes the policy (with the optimiser state) to `dir/policy` and the reference model to `dir/reference`. */
export async function writeVeRLCheckpoint(dir: string, contents: VeRLCheckpointContents): Promise<void> {
  await saveCheckpoint(join(dir, POLICY_DIR), {
    policy: contents.policy,
    ...(contents.optimizer ? { optimizer: contents.optimizer } : {}),
  });
  if (contents.reference) await contents.reference.save(join(dir, REFERENCE_DIR));
}

/** The models and optimiser state read by {@link readVeRLCheckpoint}; the caller owns both policies. */
export interface LoadedVeRLCheckpoint {
  policy: TransformerPolicy;
  reference: TransformerPolicy | undefined;
  optimizerState: AdamState | undefined;
}

/**
 * Reads what {@link writeVeRLCheckpoint} wrote and runs `copy` on it (copying weights into live models). Everything
 * that can fail happens here, so that a failure — a missing optimiser state that `state` says was saved, a model
 * that does not load, a `copy` that refuses the shapes — frees what was loaded and the caller adopts nothing.
 *
 * @throws CheckpointError when a file is missing or does not match
 */
export async function readVeRLCheckpoint(
  dir: string,
  state: VeRLCheckpointState,
  copy: (loaded: LoadedVeRLCheckpoint) => void,
): Promise<LoadedVeRLCheckpoint> {
  const { policy, optimizerState } = await loadCheckpoint(join(dir, POLICY_DIR));
  let reference: TransformerPolicy | undefined;
  try {
    if (state.hasOptimizer && optimizerState === undefined) {
      throw new CheckpointError(`${dir} lacks the optimiser state it should have`, { path: dir });
    }
    if (state.hasReference) {
      reference = await TransformerPolicy.load(join(dir, REFERENCE_DIR), { frozen: true });
    }
    copy({ policy, reference, optimizerState });
  } catch (error) {
    policy.dispose();
    reference?.dispose();
    throw error;
  }
  return { policy, reference, optimizerState };
}

/** The trainer's models before a resume: the policy (if built or given) and the reference (if any). */
export interface LiveModels {
  policy: Policy | undefined;
  /** The trainer built the policy or adopted it from an earlier checkpoint; else the caller gave it. */
  ownsPolicy: boolean;
  reference: Policy | null | undefined;
  /** The trainer built the reference (it may replace and free it); else the caller gave it. */
  ownsReference: boolean;
}

/** The models a trainer keeps after {@link resumeVeRLModels}, and the optimiser state to restore. */
export interface ResumedModels extends LiveModels {
  policy: Policy;
  optimizerState: AdamState | undefined;
}

/**
 * Reads a VeRLTrainer checkpoint into the live models: the saved weights are copied into a policy and a
 * caller-given reference that exist; otherwise the loaded models are adopted. A reference the trainer built (or
 * adopted) is freed, and replaced by the checkpoint's or, when it has none, left to be cloned from the resumed
 * policy when training starts, as a new trainer would. A policy the trainer owns then also carries the checkpoint's Adam state as its
 * `optimizerState` (none when the checkpoint has none), as the checkpoint's own policy would: the moments an
 * earlier resume brought with it belong to other weights. A caller's policy keeps its own. Whatever is not kept
 * is freed. On failure nothing changes.
 *
 * @throws CheckpointError when a file is missing or does not match
 */
export async function resumeVeRLModels(
  dir: string,
  state: VeRLCheckpointState,
  live: LiveModels,
): Promise<ResumedModels> {
  const keepsReference = live.reference != null && !live.ownsReference;
  const loaded = await readVeRLCheckpoint(dir, state, ({ policy, reference }) => {
    live.policy?.setWeights(policy.getWeights());
    if (reference && keepsReference) live.reference?.setWeights(reference.getWeights());
  });
  const { policy: saved, reference, optimizerState } = loaded;
  if (live.policy !== undefined) saved.dispose();
  if (live.ownsPolicy && live.policy instanceof TransformerPolicy)
    live.policy.optimizerState = optimizerState;
  const resumed: ResumedModels = {
    policy: live.policy ?? saved,
    ownsPolicy: live.ownsPolicy || live.policy === undefined,
    reference: live.reference,
    ownsReference: live.ownsReference,
    optimizerState,
  };
  if (reference && keepsReference) {
    reference.dispose();
  } else if (reference) {
    live.reference?.dispose();
    resumed.reference = reference;
    resumed.ownsReference = true;
  } else if (live.ownsReference) {
    live.reference?.dispose();
    resumed.reference = undefined;
    resumed.ownsReference = false;
  }
  return resumed;
}
