import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { InvalidArgumentError, messageOf } from "@orbiter/types";
import type { BackendRequest } from "@orbiter/verl";
import { DEFAULT_FMA_MODE, type FmaRequest, fmaRequest } from "./fma-setting.js";

/** The phases of the demo, in order. */
export const DEMO_PHASES = ["capture", "synthesis", "sft", "evolution", "rl"] as const;

/** One phase of the demo. */
export type DemoPhase = (typeof DEMO_PHASES)[number];

/** Sizes of the transformer policy. */
export interface ModelSizes {
  dModel: number;
  nHeads: number;
  nLayers: number;
  dMlp: number;
  /**
   * Rotary position embeddings on top of the learned ones (`TransformerConfig.rotary`): the demo's default, since
   * they let the policy copy a city and a tool's result and make the best final policy (`--positions learned`
   * turns them off).
   */
  rotary: boolean;
}

/** Every setting of a demo run (see {@link DEMO_HELP}). */
export interface DemoOptions {
  /** Which phase to run; `"all"` runs every phase in order. */
  phase: DemoPhase | "all";
  /** Tensor backend. */
  backend: BackendRequest;
  /**
   * Fused multiply-adds in the wasm kernels (`setWasmFma`), set before any model is built: `--fma`, else
   * `ORBITER_WASM_FMA`, else `on`.
   */
  fma: FmaRequest;
  /** Output folder (absolute). */
  out: string;
  /** Seed of every random choice. */
  seed: number;
  /** Episodes the travel agent runs against the scripted teacher in the capture phase. */
  episodes: number;
  /** Samples synthesis aims for (before the split). */
  targetSize: number;
  /** Supervised fine-tuning epochs over the verified training split. */
  sftEpochs: number;
  /** Supervised fine-tuning learning rate. */
  sftLearningRate: number;
  /** Candidates per generation of the hyper-parameter search. */
  population: number;
  /** Generations of the hyper-parameter search. */
  generations: number;
  /** GRPO steps of each candidate's short run. */
  evolutionSteps: number;
  /** GRPO steps of the final run. */
  rlSteps: number;
  /** PPO steps of the final run (0 skips PPO). */
  ppoSteps: number;
  /** Prompts per RL step. */
  rlBatchSize: number;
  /** Responses per prompt in GRPO. */
  groupSize: number;
  /** Policy sizes. */
  model: ModelSizes;
  /** True when `--quick` chose tiny sizes. */
  quick: boolean;
}

/** The app folder (`apps/examples`), which holds the default output folder. */
export const APP_DIR = fileURLToPath(new URL("../../", import.meta.url));

/** The default output folder: `out/` in the app folder (`apps/examples/out`), whatever the working directory. */
export const DEFAULT_OUT_DIR = resolve(APP_DIR, "out");

/** Settings of a full run: the whole demo in a few minutes on two cores with the wasm backend. */
export const DEFAULT_OPTIONS: Omit<DemoOptions, "out"> = {
  phase: "all",
  backend: "auto",
  fma: { mode: DEFAULT_FMA_MODE, source: "default" },
  seed: 7,
  episodes: 300,
  targetSize: 480,
  sftEpochs: 16,
  sftLearningRate: 3e-3,
  population: 2,
  generations: 1,
  evolutionSteps: 4,
  rlSteps: 40,
  ppoSteps: 20,
  rlBatchSize: 8,
  groupSize: 8,
  model: { dModel: 64, nHeads: 4, nLayers: 2, dMlp: 128, rotary: true },
  quick: false,
};

/** The sizes `--quick` uses: every phase runs, in seconds (for tests and smoke runs; the numbers mean little). */
export const QUICK_OPTIONS: Omit<DemoOptions, "out" | "phase" | "backend" | "fma" | "seed"> = {
  episodes: 40,
  targetSize: 90,
  sftEpochs: 2,
  sftLearningRate: 3e-3,
  population: 2,
  generations: 1,
  evolutionSteps: 1,
  rlSteps: 2,
  ppoSteps: 2,
  rlBatchSize: 4,
  groupSize: 2,
  model: { dModel: 16, nHeads: 2, nLayers: 1, dMlp: 32, rotary: true },
  quick: true,
};

/** What `pnpm demo --help` prints. */
export const DEMO_HELP = `pnpm demo [options]

The orbiter-train pipeline end to end on a tool-using travel agent (written with the official openai SDK: it
calls weather / time / flight / hotel tools of a small world and answers from their results): capture through
the recording gateway -> synthesis -> supervised fine-tuning on episodes -> evolution of RL settings -> GRPO and
PPO inside the agent's own loop -> held-out task success and an HTML report with transcripts.

Options:
  --phase <name>         capture | synthesis | sft | evolution | rl | all (default: all). A phase run alone
                         reads what the earlier phases wrote to --out.
  --backend <name>       auto | wasm | cpu | tensorflow (default: auto = tensorflow, then wasm, then cpu)
  --fma <mode>           auto | on | off: fused multiply-adds in the wasm kernels (default: on; where --fma is
                         not given, ORBITER_WASM_FMA wins over the default). On Node 20, on sets V8's
                         relaxed-SIMD flag for this process, which the demo owns; auto uses them only where
                         the engine already has relaxed SIMD (Node >= 22); off keeps separate multiply and add
  --out <dir>            output folder (default: apps/examples/out, whatever the working directory;
                         a relative path is resolved against the working directory)
  --seed <n>             seed of every random choice (default: ${DEFAULT_OPTIONS.seed})
  --episodes <n>         episodes the agent runs against the scripted teacher (default: ${DEFAULT_OPTIONS.episodes})
  --target-size <n>      samples synthesis aims for (default: ${DEFAULT_OPTIONS.targetSize})
  --sft-epochs <n>       supervised fine-tuning epochs (default: ${DEFAULT_OPTIONS.sftEpochs})
  --population <n>       candidates per generation of the RL-settings search (default: ${DEFAULT_OPTIONS.population})
  --generations <n>      generations of the search (default: ${DEFAULT_OPTIONS.generations})
  --evolution-steps <n>  GRPO steps of each candidate's short run (default: ${DEFAULT_OPTIONS.evolutionSteps})
  --rl-steps <n>         GRPO steps of the final run (default: ${DEFAULT_OPTIONS.rlSteps})
  --ppo-steps <n>        PPO steps of the final run, 0 to skip PPO (default: ${DEFAULT_OPTIONS.ppoSteps})
  --positions <scheme>   rotary | learned (default: rotary). Rotary position embeddings let the policy copy
                         the city and the tool's result, and make the best final policy; learned (absolute)
                         positions alone copy badly and leave RL more to fix (see apps/examples/README.md)
  --no-rotary            the same as --positions learned (--rotary: the same as --positions rotary)
  --quick                tiny sizes: every phase runs in seconds (numbers are not meaningful)
  -h, --help             show this help
`;

/** What {@link parseDemoArgs} returns: options to run with, or a request for the help text. */
export type ParsedDemoArgs = { help: true } | { help: false; options: DemoOptions };

const BACKENDS = ["auto", "wasm", "cpu", "tensorflow"] as const;

/** Positional schemes of the policy (`--positions`). */
export const POSITION_SCHEMES = ["rotary", "learned"] as const;

/** Reads `--positions`, `--rotary` and `--no-rotary` (which must agree) into the rotary switch. */
function rotaryOption(values: Record<string, string | boolean | undefined>, fallback: boolean): boolean {
  const choices: Array<{ flag: string; rotary: boolean }> = [];
  const positions = values.positions as string | undefined;
  if (positions !== undefined) {
    if (!(POSITION_SCHEMES as ReadonlyArray<string>).includes(positions)) {
      throw new InvalidArgumentError(
        `--positions must be one of ${POSITION_SCHEMES.join(", ")}, got ${JSON.stringify(positions)}`,
        { field: "--positions", value: positions },
      );
    }
    choices.push({ flag: "--positions", rotary: positions === "rotary" });
  }
  if (values.rotary === true) choices.push({ flag: "--rotary", rotary: true });
  if (values["no-rotary"] === true) choices.push({ flag: "--no-rotary", rotary: false });
  const first = choices[0];
  if (first === undefined) return fallback;
  const conflict = choices.find((choice) => choice.rotary !== first.rotary);
  if (conflict !== undefined) {
    throw new InvalidArgumentError(
      `${first.flag} and ${conflict.flag} ask for different positional schemes`,
      {
        field: conflict.flag,
      },
    );
  }
  return first.rotary;
}

function integerOption(raw: string | undefined, name: string, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`, {
      field: `--${name}`,
      value: raw,
    });
  }
  return value;
}

/**
 * Reads the demo's command line (`node:util` parseArgs). Unknown options and bad values throw an
 * `InvalidArgumentError` naming the option.
 *
 * @example
 * ```ts
 * const parsed = parseDemoArgs(["--phase", "sft", "--sft-epochs", "4"]);
 * if (!parsed.help) console.log(parsed.options.sftEpochs); // 4
 * ```
 */
export function parseDemoArgs(
  argv: ReadonlyArray<string>,
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): ParsedDemoArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        phase: { type: "string" },
        backend: { type: "string" },
        fma: { type: "string" },
        out: { type: "string" },
        seed: { type: "string" },
        episodes: { type: "string" },
        "target-size": { type: "string" },
        "sft-epochs": { type: "string" },
        population: { type: "string" },
        generations: { type: "string" },
        "evolution-steps": { type: "string" },
        "rl-steps": { type: "string" },
        "ppo-steps": { type: "string" },
        positions: { type: "string" },
        rotary: { type: "boolean" },
        "no-rotary": { type: "boolean" },
        quick: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new InvalidArgumentError(`${messageOf(error)} (see --help)`, {
      field: "argv",
      cause: error,
    });
  }
  if (values.help === true) return { help: true };
  const text = (name: string) => values[name] as string | undefined;
  const phase = text("phase") ?? "all";
  if (phase !== "all" && !(DEMO_PHASES as ReadonlyArray<string>).includes(phase)) {
    throw new InvalidArgumentError(
      `--phase must be one of ${[...DEMO_PHASES, "all"].join(", ")}, got ${JSON.stringify(phase)}`,
      { field: "--phase", value: phase },
    );
  }
  const backend = text("backend") ?? "auto";
  if (!(BACKENDS as ReadonlyArray<string>).includes(backend)) {
    throw new InvalidArgumentError(
      `--backend must be one of ${BACKENDS.join(", ")}, got ${JSON.stringify(backend)}`,
      {
        field: "--backend",
        value: backend,
      },
    );
  }
  const quick = values.quick === true;
  const base = quick ? { ...DEFAULT_OPTIONS, ...QUICK_OPTIONS } : DEFAULT_OPTIONS;
  const out = text("out");
  const options: DemoOptions = {
    ...base,
    phase: phase as DemoPhase | "all",
    backend: backend as BackendRequest,
    fma: fmaRequest(text("fma"), env),
    out: out === undefined ? DEFAULT_OUT_DIR : resolve(cwd, out),
    seed: integerOption(text("seed"), "seed", 0) ?? base.seed,
    episodes: integerOption(text("episodes"), "episodes", 1) ?? base.episodes,
    targetSize: integerOption(text("target-size"), "target-size", 10) ?? base.targetSize,
    sftEpochs: integerOption(text("sft-epochs"), "sft-epochs", 1) ?? base.sftEpochs,
    population: integerOption(text("population"), "population", 1) ?? base.population,
    generations: integerOption(text("generations"), "generations", 1) ?? base.generations,
    evolutionSteps: integerOption(text("evolution-steps"), "evolution-steps", 1) ?? base.evolutionSteps,
    rlSteps: integerOption(text("rl-steps"), "rl-steps", 1) ?? base.rlSteps,
    ppoSteps: integerOption(text("ppo-steps"), "ppo-steps", 0) ?? base.ppoSteps,
    model: { ...base.model, rotary: rotaryOption(values, base.model.rotary) },
  };
  return { help: false, options };
}
