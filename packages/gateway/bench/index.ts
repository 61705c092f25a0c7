/**
 * Benchmarks of @orbiter/gateway: the gateway (in its own process, so on one core) in front of a local stub
 * upstream (another process), against the stub alone, in the same run.
 *
 * - added latency per call: a sequential keep-alive client times each call with a microsecond clock, in
 *   alternating blocks against the stub and the gateway (autocannon's histogram has a 1 ms resolution, too
 *   coarse for a sub-millisecond target); p50 and p99 of each, and the difference — with the default durable
 *   answers (after the disk flush, so one call at a time pays a whole fdatasync), and with `no-sync`;
 * - recorded calls per second: autocannon (32 connections, non-streaming, small answers) against the gateway,
 *   recording with grouped fdatasync; every answered call is checked to be in the file; also per CPU second of
 *   the gateway process;
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

interface Server {
  child: ChildProcess;
  url: string;
  stats(): Promise<{ cpuMs: number; rss: number; heapUsed: number }>;
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
    async stats() {
      child.send("stats");
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
  // 1. Added latency per call: durable answers (the default), and answers before the disk flush.
  for (const mode of ["sync", "no-sync"] as const) {
    const out = join(folder, `latency-${mode}.jsonl`);
    const gateway = await startServer(["gateway", stub.url, out, mode]);
    await timeCalls(stub.url, 500);
    await timeCalls(gateway.url, 500);
    const direct: number[] = [];
    const through: number[] = [];
    const block = 250;
    for (let done = 0; done < LATENCY_CALLS; done += block) {
      direct.push(...(await timeCalls(stub.url, block)));
      through.push(...(await timeCalls(gateway.url, block)));
    }
    await gateway.close();
    for (const p of [50, 99]) {
      const stubValue = percentile(direct, p);
      const gatewayValue = percentile(through, p);
      report({
        name: `added-latency-p${p}${mode === "sync" ? "" : "-no-sync"}`,
        value: round(gatewayValue - stubValue),
        unit: "ms",
        ...(p === 50 && mode === "sync" ? { target: 1, comparison: "<=" as const } : {}),
        stubMs: round(stubValue),
        gatewayMs: round(gatewayValue),
        calls: direct.length,
        recording:
          mode === "sync"
            ? "answer after fdatasync (grouped): nothing acknowledged is lost"
            : "answer before the (grouped) fdatasync",
      });
    }
  }

  // 2. Recorded calls per second (autocannon, non-streaming, small answers), stub alone for comparison.
  {
    const stubRun = await cannon(stub.url, { duration: THROUGHPUT_SECONDS });
    progress(`stub alone: ${stubRun.requests.average} calls/s`);
    const out = join(folder, "throughput.jsonl");
    const gateway = await startServer(["gateway", stub.url, out]);
    await cannon(gateway.url, { duration: 2 });
    const before = await gateway.stats();
    const run = await cannon(gateway.url, { duration: THROUGHPUT_SECONDS });
    const after = await gateway.stats();
    await gateway.close();
    const lines = (await readFile(out, "utf8")).split("\n").filter(Boolean).length;
    const answered = run["2xx"];
    const cpuSeconds = (after.cpuMs - before.cpuMs) / 1000;
    progress(`gateway: ${answered} answered, ${lines} lines in the file (warm-up included)`);
    report({
      name: "recorded-calls-per-second",
      value: Math.round(answered / (run.duration || THROUGHPUT_SECONDS)),
      unit: "calls/s",
      target: 2000,
      comparison: ">=",
      perCpuSecond: Math.round(answered / cpuSeconds),
      stubAloneCallsPerSecond: Math.round(stubRun.requests.average),
      errors: run.errors + run.non2xx,
      allAnsweredRecorded: lines >= answered,
      latencyP50Ms: run.latency.p50,
      latencyP99Ms: run.latency.p99,
    });
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
