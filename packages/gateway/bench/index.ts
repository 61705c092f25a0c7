/**
 * Benchmarks of @orbiter/gateway: the gateway (in its own process, so on one core) in front of a local stub
 * upstream (another process), against the stub alone, in the same run.
 *
 * - added latency per call: a sequential keep-alive client times each call with a microsecond clock, in
 *   alternating blocks against the stub and a gateway at each durability level — `written` (the default),
 *   `synced`, `none` (autocannon's histogram has a 1 ms resolution, too coarse for a sub-millisecond target);
 *   p50 and p99 of each, the difference, and the gateway's CPU time per call (less sensitive than wall-clock
 *   time to what else runs on the machine);
 * - recorded calls per second: autocannon (32 connections, non-streaming, small answers) against the gateway
 *   at the default level and at `synced`; every answered call is checked to be in the file; also per CPU
 *   second of the gateway process;
 * - memory growth over 100,000 calls: the gateway's RSS and heap after garbage collection, before and after.
 *
 * Prints one JSON object per measurement (CONTRIBUTING.md) and writes them to bench-results/gateway.jsonl.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import autocannon from "autocannon";
import { BenchReporter, type Measurement } from "../../../scripts/bench-reporter.js";

const PACKAGE = "@orbiter/gateway";
const LATENCY_CALLS = Number(process.env.BENCH_LATENCY_CALLS ?? 4000);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const MEMORY_CALLS = Number(process.env.BENCH_MEMORY_CALLS ?? 100_000);
const reporter = new BenchReporter(PACKAGE, "gateway");
const report = (measurement: Measurement) => reporter.report(measurement);
const progress = (message: string) => reporter.log(message);

const loader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const serve = new URL("./serve.ts", import.meta.url).pathname;
const body = JSON.stringify({
  model: "stub-small",
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "What is the capital of France?" },
  ],
});

/** What an answered call guarantees at each level, reported with its figures. */
const DURABILITY_NOTES = {
  written:
    "the default: answer after the record is written to the file (grouped write; fdatasync in the background within 100 ms): SIGKILL loses nothing answered",
  synced: "answer after the record is on disk (grouped fdatasync): a power loss loses nothing answered",
  none: "answer first; records written and flushed in the background within 100 ms",
} as const;

interface Server {
  child: ChildProcess;
  url: string;
  /** CPU time and memory of the process (after collecting garbage unless `collect` is false). */
  stats(collect?: boolean): Promise<{ cpuMs: number; rss: number; heapUsed: number }>;
  close(): Promise<void>;
}

async function startServer(args: string[]): Promise<Server> {
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--import", loader, "--conditions=@orbiter/source", serve, ...args],
    { stdio: ["ignore", "pipe", "inherit", "ipc"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split("\n").find((candidate) => candidate.startsWith("{"));
      if (line && text.includes("\n")) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once("exit", (code) => reject(new Error(`server ${args[0]} exited with ${code}`)));
  });
  return {
    child,
    url,
    async stats(collect = true) {
      child.send(collect ? "stats" : "cpu");
      const [message] = await once(child, "message");
      return message as { cpuMs: number; rss: number; heapUsed: number };
    },
    async close() {
      child.send("close");
      await once(child, "exit");
    },
  };
}

/** Times `count` sequential calls over one keep-alive connection; returns their durations in milliseconds. */
async function timeCalls(url: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(`${url}/chat/completions`);
  const durations: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const req = request(
        target,
        {
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on("end", () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    durations.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  agent.destroy();
  return durations;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

async function cannon(url: string, options: { duration?: number; amount?: number }) {
  return autocannon({
    url: `${url}/chat/completions`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections: 32,
    ...options,
  });
}

const folder = await mkdtemp(join(tmpdir(), "orbiter-gateway-bench-"));
const stub = await startServer(["stub"]);
try {
  // 1. Added latency per call at each durability level, in alternating blocks against the same stub.
  {
    const levels = ["written", "synced", "none"] as const;
    const gateways = await Promise.all(
      levels.map((level) =>
        startServer(["gateway", stub.url, join(folder, `latency-${level}.jsonl`), level]),
      ),
    );
    await timeCalls(stub.url, 500);
    for (const gateway of gateways) await timeCalls(gateway.url, 500);
    const direct: number[] = [];
    const through: number[][] = levels.map(() => []);
    const cpuMs = levels.map(() => 0);
    const block = 250;
    for (let done = 0; done < LATENCY_CALLS; done += block) {
      direct.push(...(await timeCalls(stub.url, block)));
      for (const [index, gateway] of gateways.entries()) {
        const before = await gateway.stats(false);
        (through[index] as number[]).push(...(await timeCalls(gateway.url, block)));
        cpuMs[index] = (cpuMs[index] as number) + (await gateway.stats(false)).cpuMs - before.cpuMs;
      }
    }
    await Promise.all(gateways.map((gateway) => gateway.close()));
    for (const [index, level] of levels.entries()) {
      const calls = through[index] as number[];
      for (const p of [50, 99]) {
        const stubValue = percentile(direct, p);
        const gatewayValue = percentile(calls, p);
        report({
          name: `added-latency-p${p}${level === "written" ? "" : `-${level}`}`,
          value: round(gatewayValue - stubValue),
          unit: "ms",
          ...(p === 50 && level === "written" ? { target: 1, comparison: "<=" as const } : {}),
          durability: level,
          stubMs: round(stubValue),
          gatewayMs: round(gatewayValue),
          calls: calls.length,
          gatewayCpuUsPerCall: round(((cpuMs[index] as number) * 1000) / calls.length, 1),
          recording: DURABILITY_NOTES[level],
        });
      }
    }
  }

  // 2. Recorded calls per second (autocannon, non-streaming, small answers), stub alone for comparison.
  {
    const stubRun = await cannon(stub.url, { duration: THROUGHPUT_SECONDS });
    progress(`stub alone: ${stubRun.requests.average} calls/s`);
    for (const level of ["written", "synced"] as const) {
      const out = join(folder, `throughput-${level}.jsonl`);
      const gateway = await startServer(["gateway", stub.url, out, level]);
      await cannon(gateway.url, { duration: 2 });
      const before = await gateway.stats();
      const run = await cannon(gateway.url, { duration: THROUGHPUT_SECONDS });
      const after = await gateway.stats();
      await gateway.close();
      const lines = (await readFile(out, "utf8")).split("\n").filter(Boolean).length;
      const answered = run["2xx"];
      const cpuSeconds = (after.cpuMs - before.cpuMs) / 1000;
      progress(`gateway (${level}): ${answered} answered, ${lines} lines in the file (warm-up included)`);
      report({
        name: `recorded-calls-per-second${level === "written" ? "" : `-${level}`}`,
        value: Math.round(answered / (run.duration || THROUGHPUT_SECONDS)),
        unit: "calls/s",
        ...(level === "written" ? { target: 2000, comparison: ">=" as const } : {}),
        durability: level,
        perCpuSecond: Math.round(answered / cpuSeconds),
        stubAloneCallsPerSecond: Math.round(stubRun.requests.average),
        errors: run.errors + run.non2xx,
        allAnsweredRecorded: lines >= answered,
        latencyP50Ms: run.latency.p50,
        latencyP99Ms: run.latency.p99,
      });
    }
  }

  // 3. Memory growth over 100,000 calls.
  {
    const out = join(folder, "memory.jsonl");
    const gateway = await startServer(["gateway", stub.url, out]);
    await cannon(gateway.url, { amount: 5000 });
    const before = await gateway.stats();
    const run = await cannon(gateway.url, { amount: MEMORY_CALLS });
    const after = await gateway.stats();
    await gateway.close();
    report({
      name: "memory-growth-100k-calls",
      value: round((after.rss - before.rss) / 2 ** 20, 1),
      unit: "MB",
      target: 50,
      comparison: "<",
      calls: run["2xx"],
      heapGrowthMB: round((after.heapUsed - before.heapUsed) / 2 ** 20, 1),
      rssAfterMB: round(after.rss / 2 ** 20, 1),
    });
  }
} finally {
  await stub.close();
  await rm(folder, { recursive: true, force: true });
  reporter.save();
}
