// Benchmarks of @orbiter/verl on the reference workload (described in bench/README.md), one JSON line per
// measurement and backend present, also written to bench-results/verl.jsonl at the repository root. Other lines
// never start with "{". Usage: pnpm --filter @orbiter/verl bench [workload ...] [--backend=wasm,cpu]
// [--fma=both|auto|on|off]: on wasm, the workloads run with the kernels' fused multiply-adds off and on (`both`,
// the default, where relaxed SIMD can be had) and each line says which (`wasm_fma`).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { availableBackends, type BackendName, initBackend, setWasmFma, type WasmFmaMode } from "./imports.js";
import { kernelWorkload } from "./kernel-workload.js";
import { grpoWorkload, ppoWorkload } from "./rl-step-workloads.js";
import { rolloutWorkload } from "./rollout-workload.js";
import { trainStepWorkload } from "./train-step-workload.js";
import type { Measurement, Workload } from "./workload.js";

/** Every workload, in order. Append new workloads here. */
const workloads: Workload[] = [kernelWorkload, rolloutWorkload, trainStepWorkload, grpoWorkload, ppoWorkload];

const args = process.argv.slice(2);
const onlyWorkloads = args.filter((arg) => !arg.startsWith("--"));
const backendArg = args.find((arg) => arg.startsWith("--backend="))?.slice("--backend=".length);
const present = await availableBackends();
const backends = backendArg ? present.filter((name) => backendArg.split(",").includes(name)) : present;
const fmaArg = args.find((arg) => arg.startsWith("--fma="))?.slice("--fma=".length) ?? "both";

/** The fused-multiply-add settings to run the wasm workloads with. */
function fmaModes(): WasmFmaMode[] {
  if (fmaArg !== "both") return [fmaArg as WasmFmaMode];
  const canFuse = setWasmFma("on");
  setWasmFma("auto");
  return canFuse ? ["off", "on"] : ["off"];
}

const lines: string[] = [];
let failed = false;
for (const backend of backends) {
  await initBackend({ backend: backend as BackendName });
  for (const mode of backend === "wasm" ? fmaModes() : ["off" as const]) {
    const fused = setWasmFma(mode);
    for (const workload of workloads) {
      if (onlyWorkloads.length > 0 && !onlyWorkloads.includes(workload.name)) continue;
      process.stderr.write(`# ${workload.name} on ${backend}${fused ? ", fused multiply-adds" : ""}\n`);
      let measurements: Measurement[];
      try {
        measurements = await workload.run(backend);
      } catch (error) {
        failed = true;
        measurements = [{ workload: workload.name, backend, error: String(error), pass: false }];
      }
      for (const measurement of measurements) {
        const line = JSON.stringify(backend === "wasm" ? { ...measurement, wasm_fma: fused } : measurement);
        lines.push(line);
        process.stdout.write(`${line}\n`);
      }
    }
  }
}

const root = new URL("../../../", import.meta.url).pathname;
mkdirSync(join(root, "bench-results"), { recursive: true });
writeFileSync(join(root, "bench-results", "verl.jsonl"), lines.length > 0 ? `${lines.join("\n")}\n` : "");
if (failed) process.exitCode = 1;
