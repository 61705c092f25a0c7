import type { BackendName } from "@orbiter/verl";
import type { FailureCounts } from "./failure-classes.js";

/** The RL settings the evolution phase tunes. */
export interface RlSettings {
  /** Peak Adam learning rate. */
  learningRate: number;
  /** KL coefficient β towards the warm-start policy. */
  klCoef: number;
  /** Sampling temperature of the rollouts. */
  temperature: number;
}

/** One episode of an evaluated policy, kept for the report. */
export interface EvaluationExample {
  request: string;
  /** The right final answer. */
  expected: string;
  /** The agent's final answer. */
  answer: string;
  correct: boolean;
  /** Model calls (assistant turns) of the episode. */
  turns: number;
  /** Tool calls the policy made. */
  toolCalls: number;
  /** The transcript, one line per message (`user: ...`, `assistant -> weather({"city":"Oslo"})`, `tool: ...`). */
  transcript: string[];
}

/** A greedy evaluation of the travel agent on a policy, one episode per request, scored by the verifier. */
export interface Evaluation {
  /** Share of episodes whose final answer is exactly right (task success). */
  accuracy: number;
  /** Mean assistant turns per episode. */
  meanTurns: number;
  /** Mean tool calls per episode. */
  meanToolCalls: number;
  /** Mean verifier score. */
  reward: number;
  /** Requests evaluated. */
  samples: number;
  /** Episodes per outcome class (success, misread result, wrong city, wrong tool, no call). */
  failures: FailureCounts;
  /** The first few answers. */
  examples: EvaluationExample[];
}

/** Common fields of every phase result. */
interface PhaseResultBase {
  /** Wall time of the phase in milliseconds. */
  durationMs: number;
  /** The tensor backend in use. */
  backend: BackendName;
}

/** What the capture phase did. */
export interface CaptureResult extends PhaseResultBase {
  phase: "capture";
  /** Episodes the travel agent ran. */
  episodes: number;
  /** Episodes the strategy kept (those without an answer are dropped). */
  captured: number;
  /** Model calls the gateway recorded (one item each in its record file). */
  calls: number;
  /** Of those, exactly right. */
  correct: number;
  /** Mean verifier reward of the kept trajectories. */
  meanReward: number;
  /** Mistakes of the teacher by kind. */
  mistakes: Record<string, number>;
  /** Items read back from each written file. */
  reimported: { sink: number; json: number; jsonl: number; csv: number };
  /** Sizes of the exported files in bytes. */
  bytes: { json: number; jsonl: number; csv: number };
}

/** What the synthesis phase did. */
export interface SynthesisPhaseResult extends PhaseResultBase {
  phase: "synthesis";
  /** Trajectories given to the pipeline as seed data. */
  seedGiven: number;
  /** Of those, kept (verified right, not duplicated). */
  seedKept: number;
  /** New samples the steps produced (templates and noisy copies). */
  generated: number;
  /** Of those, kept. */
  accepted: number;
  /** Samples dropped because the verifier scored them below the minimum. */
  belowScore: number;
  /** Samples dropped as near-duplicates. */
  duplicates: number;
  /** Kept samples by origin (agent, template, noise). */
  byOrigin: Record<string, number>;
  /** Sizes of the splits (all requests for one call stay in one split). */
  splits: { train: number; validation: number; test: number };
}

/** What the supervised fine-tuning phase did. */
export interface SftPhaseResult extends PhaseResultBase {
  phase: "sft";
  /** Verified training samples it learned from. */
  samples: number;
  /** Of those, the agent's good trajectories. */
  fromAgent: number;
  epochs: number;
  steps: number;
  /** Cross-entropy of the last epoch. */
  loss: number;
  /** Token accuracy of the last epoch. */
  tokenAccuracy: number;
  /** Parameters of the policy. */
  parameters: number;
  /** The untrained policy on the test split. */
  untrained: Evaluation;
  /** The fine-tuned policy on the test split. */
  test: Evaluation;
  /** The fine-tuned policy on the validation split. */
  validation: Evaluation;
}

/** One candidate of the RL-settings search. */
export interface CandidateRecord {
  generation: number;
  index: number;
  settings: RlSettings;
  /** Validation accuracy after the short run, plus the mean reward / 100 to break ties. */
  score: number;
  accuracy: number;
  reward: number;
}

/** What the evolution phase did. */
export interface EvolutionPhaseResult extends PhaseResultBase {
  phase: "evolution";
  population: number;
  generations: number;
  /** GRPO steps of each short run. */
  stepsPerRun: number;
  /** Short runs made (cached candidates are not run again). */
  evaluations: number;
  /** Every short run, in order. */
  candidates: CandidateRecord[];
  /** Best, mean and worst score of each generation. */
  history: Array<{ generation: number; best: number; mean: number; worst: number }>;
  /** The settings the RL phase uses. */
  best: RlSettings;
  bestScore: number;
}

/** One RL run from the warm start. */
export interface RlRun {
  algorithm: "grpo" | "ppo";
  steps: number;
  settings: RlSettings;
  /** Prompts per step × responses per prompt. */
  batchSize: number;
  groupSize: number;
  durationMs: number;
  /** Mean wall time of one step (rollout, rewards, update). */
  meanStepMs: number;
  test: Evaluation;
  validation: Evaluation;
}

/** Which checkpoint the demo keeps as its final policy. */
export type FinalCheckpoint = "sft" | "grpo" | "ppo";

/** What the RL phase did. */
export interface RlPhaseResult extends PhaseResultBase {
  phase: "rl";
  /** Where the settings came from. */
  settingsSource: "evolution" | "defaults";
  /** The warm start (after SFT) on the test split. */
  before: Evaluation;
  /** The warm start on the validation split (what the RL runs must beat to become the final checkpoint). */
  beforeValidation: Evaluation;
  grpo: RlRun;
  ppo: RlRun | undefined;
  /** The checkpoint kept as the final one, by the rule of `chooseFinal` (final-checkpoint.ts). */
  final: FinalCheckpoint;
}

/** The result of any phase. */
export type PhaseResult =
  | CaptureResult
  | SynthesisPhaseResult
  | SftPhaseResult
  | EvolutionPhaseResult
  | RlPhaseResult;

/** Every phase result found in an output folder. */
export interface DemoResults {
  capture?: CaptureResult;
  synthesis?: SynthesisPhaseResult;
  sft?: SftPhaseResult;
  evolution?: EvolutionPhaseResult;
  rl?: RlPhaseResult;
}
