import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TrajectoryDataset } from "../dataset/trajectory-dataset.js";
import { validateItem } from "../internal/item-validator.js";
import { expectedInput } from "./fixtures/expected-items.js";
import { JsonlSink } from "./jsonl-sink.js";

const child = fileURLToPath(new URL("./fixtures/crash-child.ts", import.meta.url));
const packageDirectory = fileURLToPath(new URL("../..", import.meta.url));

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "orbiter-trajectory-crash-"));
});
/** Children still running when a test ends (it failed or timed out) are killed, never left writing. */
const running = new Set<ChildProcess>();
afterEach(() => {
  for (const proc of running) proc.kill("SIGKILL");
  running.clear();
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

interface Run {
  process: ChildProcess;
  /** Resolves with the last progress line once `ready` accepts it. */
  ready: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(path: string, mode: string, ready: (line: string) => boolean): Run {
  const proc = spawn(
    process.execPath,
    ["--conditions=@orbiter/source", "--import", "tsx", child, path, mode],
    {
      cwd: packageDirectory,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  running.add(proc);
  let stderr = "";
  proc.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on("exit", (code, signal) => {
      running.delete(proc);
      resolve({ code, signal });
    }),
  );
  const readyPromise = new Promise<string>((resolve, reject) => {
    let buffer = "";
    proc.stdout?.on("data", (chunk) => {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) if (ready(line)) resolve(line);
    });
    void exited.then(({ code }) => reject(new Error(`child exited early (${code}): ${stderr}`)));
  });
  // A run that is only awaited through `exited` (a normal exit) must not leave a rejection unhandled.
  readyPromise.catch(() => undefined);
  return { process: proc, ready: readyPromise, exited };
}

async function killed(run: Run, lastReport: string): Promise<number> {
  run.process.kill("SIGKILL");
  const { signal } = await run.exited;
  expect(signal).toBe("SIGKILL");
  return Number(lastReport);
}

function expectedItem(index: number, big: boolean) {
  return validateItem(expectedInput(index, big), { what: "expected item" });
}

describe("JsonlSink after a SIGKILL", () => {
  it('"always": every item whose capture returned is recovered, in order, intact', async () => {
    const path = join(directory, "always.jsonl");
    let last = "0";
    const run = start(path, "always", (line) => {
      last = line;
      return Number(line) >= 200;
    });
    await run.ready;
    const reported = await killed(run, last);
    const { dataset, report } = await JsonlSink.recover(path, { onWarning: () => {} });
    expect(dataset.length).toBeGreaterThanOrEqual(reported);
    expect(report.records).toBe(dataset.length);
    dataset.items.forEach((item, index) => {
      expect(item).toStrictEqual(expectedItem(index, false));
    });
    // The repaired file ends with a complete line: appending resumes cleanly.
    expect((await readFile(path, "utf8")).endsWith("\n")).toBe(true);
  });

  it("writeBuffered: every item written before it was reported is recovered, without any fdatasync", async () => {
    const path = join(directory, "written.jsonl");
    let last = "0";
    const run = start(path, "written", (line) => {
      last = line;
      return Number(line) >= 500;
    });
    await run.ready;
    const reported = await killed(run, last);
    const { dataset } = await JsonlSink.recover(path, { onWarning: () => {} });
    expect(reported).toBeGreaterThanOrEqual(500);
    expect(dataset.length).toBeGreaterThanOrEqual(reported);
    dataset.items.forEach((item, index) => {
      expect(item).toStrictEqual(expectedItem(index, false));
    });
  });

  it('"batch": large batches killed mid-write leave a clean prefix, torn tail dropped with a warning', async () => {
    // Several rounds, since where the kill lands is up to the scheduler. Each batch is a ~5 MB write, so a kill
    // can land inside the write system call and tear the last line (the cut-at-every-byte test in
    // jsonl-sink.test.ts covers torn tails deterministically).
    const path = join(directory, "batch.jsonl");
    for (let round = 0; round < 3; round++) {
      await rm(path, { force: true });
      let last = "0";
      const run = start(path, "batch", (line) => {
        last = line;
        return Number(line) >= 100 + 30 * round;
      });
      await run.ready;
      const reported = await killed(run, last);
      const warnings: string[] = [];
      const { dataset, report } = await JsonlSink.recover(path, { onWarning: (w) => warnings.push(w.kind) });
      // Batches of 50 are written and fdatasynced before the 50th capture returns.
      expect(dataset.length).toBeGreaterThanOrEqual(Math.floor(reported / 50) * 50);
      dataset.items.forEach((item, index) => {
        expect(item).toStrictEqual(expectedItem(index, true));
      });
      expect(warnings).toEqual(report.tornLine ? ["incomplete-record"] : []);
      const text = await readFile(path, "utf8");
      expect(text === "" || text.endsWith("\n")).toBe(true);
    }
  });

  it("a normal exit flushes the pending batch", async () => {
    const path = join(directory, "exit.jsonl");
    const run = start(path, "exit", () => false);
    const { code } = await run.exited;
    expect(code).toBe(0);
    const dataset = await TrajectoryDataset.fromJsonl(path);
    expect(dataset.length).toBe(123);
  });
});

describe("atomic export after a SIGKILL", () => {
  it("the target is never partial: it holds the old content or a complete new file", async () => {
    const path = join(directory, "export.jsonl");
    await writeFile(path, `${JSON.stringify({ id: "old", state: "s", action: "a", reward: 1 })}\n`);
    const run = start(path, "export", (line) => line === "exporting");
    await run.ready;
    // Let it write for a while (the first full export of 200k items takes longer than this).
    await new Promise((resolve) => setTimeout(resolve, 300));
    await killed(run, "0");
    const dataset = await TrajectoryDataset.fromJsonl(path);
    expect([1, 200_000]).toContain(dataset.length);
    if (dataset.length === 1) expect(dataset.items[0]?.id).toBe("old");
    // At most the abandoned temporary file is left next to it, never mistaken for the target.
    const leftovers = (await readdir(directory)).filter((name) => name.startsWith(".export.jsonl."));
    expect(leftovers.every((name) => name.endsWith(".tmp"))).toBe(true);
  });
});
