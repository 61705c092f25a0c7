import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { InvalidArgumentError } from "@orbiter/types";
import { initBackend } from "@orbiter/verl";
import { runCommand } from "../command-line.js";
import { APP_DIR, DEFAULT_OPTIONS } from "../demo/cli.js";
import { formatSweepTable, runWarmStartSweep, type SweepAlgorithm } from "./warm-start-sweep.js";

const HELP = `pnpm sweep:warm-start [options]

GRPO and PPO from the demo's SFT checkpoint at several learning rates, every other setting at the library's
default; prints held-out test accuracy before and after each run, with per-step diagnostics (reward, KL to the
reference, clip fraction, gradient norm before clipping, entropy, size of each update and drift from the warm
start). The demo's capture, synthesis and SFT phases run first when --out has no SFT checkpoint.

Options:
  --out <dir>            demo output folder (default: apps/examples/out/warm-start-sweep)
  --seed <n>             demo seed (default: 7)
  --algorithms <list>    comma-separated, grpo and/or ppo (default: grpo,ppo)
  --lrs <list>           comma-separated learning rates (default: 1e-4,3e-4,1e-3)
  --grpo-steps <n>       GRPO steps (default: the demo's, ${DEFAULT_OPTIONS.rlSteps})
  --ppo-steps <n>        PPO steps (default: the demo's, ${DEFAULT_OPTIONS.ppoSteps})
  --set <key=json>       a config field set on every run, e.g. --set warmupSteps=0 (repeatable)
  --rotary               build the warm start with rotary position embeddings (the demo's --rotary)
  --carry-optimizer      pass the SFT's saved Adam moments as the trainer's optimizerState option (the library
                         carries them by default since they load with the policy; for a fresh Adam use
                         --set carryOptimizerState=false)
  --quiet                only the table
  -h, --help             show this help
`;

function positiveNumber(raw: string, field: string): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`--${field} needs positive numbers, got ${JSON.stringify(raw)}`, {
      field: `--${field}`,
      value: raw,
    });
  }
  return value;
}

function overridesFrom(entries: ReadonlyArray<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of entries) {
    const at = entry.indexOf("=");
    if (at <= 0) {
      throw new InvalidArgumentError(`--set needs key=value, got ${JSON.stringify(entry)}`, {
        field: "--set",
        value: entry,
      });
    }
    const raw = entry.slice(at + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    out[entry.slice(0, at)] = value;
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: "string" },
      seed: { type: "string" },
      algorithms: { type: "string" },
      lrs: { type: "string" },
      "grpo-steps": { type: "string" },
      "ppo-steps": { type: "string" },
      set: { type: "string", multiple: true },
      rotary: { type: "boolean" },
      quiet: { type: "boolean" },
      "carry-optimizer": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const algorithms = (values.algorithms ?? "grpo,ppo").split(",").map((name) => {
    if (name !== "grpo" && name !== "ppo") {
      throw new InvalidArgumentError(`--algorithms takes grpo and ppo, got ${JSON.stringify(name)}`, {
        field: "--algorithms",
        value: name,
      });
    }
    return name as SweepAlgorithm;
  });
  const learningRates = (values.lrs ?? "1e-4,3e-4,1e-3").split(",").map((raw) => positiveNumber(raw, "lrs"));
  const out = values.out === undefined ? join(APP_DIR, "out", "warm-start-sweep") : resolve(values.out);
  const overrides = overridesFrom(values.set ?? []);
  await initBackend({ backend: "wasm" });
  const log = values.quiet ? undefined : (line: string) => process.stdout.write(`${line}\n`);
  const rows = await runWarmStartSweep({
    out,
    algorithms,
    learningRates,
    ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
    ...(values["grpo-steps"] === undefined
      ? {}
      : { grpoSteps: positiveNumber(values["grpo-steps"], "grpo-steps") }),
    ...(values["ppo-steps"] === undefined
      ? {}
      : { ppoSteps: positiveNumber(values["ppo-steps"], "ppo-steps") }),
    overrides,
    rotary: values.rotary === true,
    carryOptimizer: values["carry-optimizer"] === true,
    ...(log ? { log } : {}),
  });
  const table = formatSweepTable(rows);
  const settings = Object.keys(overrides).length === 0 ? "library defaults" : JSON.stringify(overrides);
  process.stdout.write(`\nheld-out test accuracy (${settings})\n${table}\n`);
  await writeFile(join(out, "warm-start-sweep.json"), `${JSON.stringify({ overrides, rows }, null, 1)}\n`);
}

await runCommand("sweep", () => main(process.argv.slice(2)));
