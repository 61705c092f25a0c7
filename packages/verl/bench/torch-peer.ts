// The PyTorch peer of the reference workload (/work/shared/peers/README.md): found next to the repository, run
// in the same benchmark as ours so that the ratio compares two runs on the same machine at the same moment.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** What the peer reports for one algorithm (medians over its timed steps). */
export interface PeerFigures {
  step_ms: number;
  rollout_ms: number;
  update_ms: number;
  rollout_tokens_per_s: number;
  threads: number;
}

/** How to start the peer: the interpreter, its script and the environment that puts OpenBLAS first. */
export interface TorchPeer {
  python: string;
  script: string;
  env: NodeJS.ProcessEnv;
}

/** The `shared/peers` folder in an ancestor of this repository, or null. */
function peersFolder(): string | null {
  let dir = new URL(".", import.meta.url).pathname;
  for (let depth = 0; depth < 8; depth++) {
    const candidate = join(dir, "shared", "peers");
    if (existsSync(join(candidate, "torch_reference.py"))) return candidate;
    dir = dirname(dir);
  }
  return null;
}

/**
 * The peer when it is set up here (torch importable, and the command printed by `setup-torch-peer.sh`, which
 * installs nothing once both are present), else null with the reason.
 */
export async function findTorchPeer(): Promise<{ peer: TorchPeer | null; reason: string }> {
  const folder = peersFolder();
  if (folder === null)
    return { peer: null, reason: "no shared/peers/torch_reference.py next to the repository" };
  try {
    await run("/usr/bin/python3", ["-c", "import torch"]);
  } catch {
    return {
      peer: null,
      reason: `torch is not installed (bash ${join(folder, "setup-torch-peer.sh")} sets it up)`,
    };
  }
  const openblas = "/tmp/openblas-local/usr/lib/x86_64-linux-gnu/openblas-pthread";
  if (!existsSync(join(openblas, "libblas.so.3"))) {
    return { peer: null, reason: `OpenBLAS is not unpacked (bash ${join(folder, "setup-torch-peer.sh")})` };
  }
  const { stdout } = await run("bash", [join(folder, "setup-torch-peer.sh")]);
  const match = /LD_LIBRARY_PATH=(\S+)\s+(\S+)\s+(\S+)/.exec(stdout.trim().split("\n").at(-1) ?? "");
  if (match === null)
    return { peer: null, reason: `unexpected output of setup-torch-peer.sh: ${stdout.trim()}` };
  const [, libraryPath, python, script] = match as unknown as [string, string, string, string];
  return { peer: { python, script, env: { ...process.env, LD_LIBRARY_PATH: libraryPath } }, reason: "" };
}

/**
 * Runs the peer's `algo` step (5 timed after 2 warm-ups) on `threads` threads and returns its figures. With
 * `clock: "cpu"` the peer's timer is the process's CPU time (bench/peer-cpu-clock.py swaps `time.perf_counter`
 * for `time.process_time` before running the unchanged script), so its figures are CPU milliseconds, which a
 * busy machine inflates far less than wall-clock ones.
 */
export async function runTorchPeer(
  peer: TorchPeer,
  algo: "grpo" | "ppo",
  threads: number,
  clock: "wall" | "cpu" = "wall",
): Promise<PeerFigures> {
  const env = threads > 1 ? { ...peer.env, OMP_WAIT_POLICY: "PASSIVE" } : peer.env;
  const script =
    clock === "cpu" ? [new URL("./peer-cpu-clock.py", import.meta.url).pathname, peer.script] : [peer.script];
  const args = [...script, "--algo", algo, "--steps", "5", "--warmup", "2", "--threads", String(threads)];
  const { stdout } = await run(peer.python, args, { env, maxBuffer: 1 << 24 });
  const line = stdout
    .trim()
    .split("\n")
    .find((text) => text.startsWith("{"));
  if (line === undefined) throw new Error(`The torch peer printed no JSON line: ${stdout.slice(0, 200)}`);
  const parsed = JSON.parse(line) as PeerFigures;
  return {
    step_ms: parsed.step_ms,
    rollout_ms: parsed.rollout_ms,
    update_ms: parsed.update_ms,
    rollout_tokens_per_s: parsed.rollout_tokens_per_s,
    threads,
  };
}
