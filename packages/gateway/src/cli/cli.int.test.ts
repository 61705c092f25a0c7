import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { openAiClient } from "@orbiter/test-support";
import { JsonlSink, type TrajectoryDataset } from "@orbiter/trajectory";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRecords, temporaryFolder } from "../test-support/fixtures.js";
import { type StubUpstream, startStubUpstream } from "../test-support/stub-upstream.js";

const root = resolve(import.meta.dirname, "../../../..");
const cli = resolve(import.meta.dirname, "../cli.ts");
// One process (not the tsx wrapper, which would survive a SIGKILL sent to it): node with tsx's loader.
const loader = pathToFileURL(createRequire(join(root, "package.json")).resolve("tsx")).href;
const nodeArgs = ["--import", loader, "--conditions=@orbiter/source", cli];

/** Resolves with the exit code (or signal) of a child, also when it has already exited. */
function exited(child: ChildProcessWithoutNullStreams): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(child.exitCode ?? child.signalCode);
  return once(child, "exit").then(([code, signal]) => (code as number | null) ?? (signal as string | null));
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr: () => string;
}

/** Starts the CLI from source and waits for its "listening on" line. */
async function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^listening on (http:\/\/\S+)$/m.exec(stdout);
      if (match) resolveUrl(match[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`CLI exited with ${code}: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}

let stub: StubUpstream;
let folder: Awaited<ReturnType<typeof temporaryFolder>>;

beforeAll(async () => {
  stub = await startStubUpstream(undefined, { record: false });
  folder = await temporaryFolder("cli");
});
afterAll(async () => {
  await stub.close();
  await folder.remove();
});

describe("orbiter-gateway (the CLI)", () => {
  it("prints where it listens, records calls, and flushes and exits 0 on SIGTERM", async () => {
    const out = join(folder.path, "term.jsonl");
    const { child, url } = await startCli([
      "--upstream",
      stub.baseURL,
      "--out",
      out,
      "--api-key",
      "cli-key-123456",
    ]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = openAiClient(`${url}/rollouts/cli-run/v1`, "cli-key-123456");
    for (const content of ["one", "two"]) {
      await client.chat.completions.create({ model: "m", messages: [{ role: "user", content }] });
    }
    const refused = openAiClient(`${url}/v1`, "wrong");
    await expect(
      refused.chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({ status: 401 });
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);
    const items = await readRecords(out);
    expect(items.map((item) => [item.episodeId, item.step, item.action])).toEqual([
      ["cli-run", 0, "echo: one"],
      ["cli-run", 1, "echo: two"],
    ]);
    expect(await readFile(out, "utf8")).not.toContain("cli-key-123456");
  });

  it("exits 2 with the usage on a bad command line", async () => {
    const child = spawn(process.execPath, [...nodeArgs, "--out", "x.jsonl"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, "exit");
    expect(code).toBe(2);
    expect(stderr).toContain("--upstream URL is required");
    expect(stderr).toContain("Usage: orbiter-gateway");
  });

  /**
   * Eight agents call as fast as they can; the gateway is killed with SIGKILL while calls are in flight, and
   * every call a client saw answered must be in the file.
   */
  async function killUnderLoad(out: string, args: string[]): Promise<TrajectoryDataset> {
    const { child, url } = await startCli(["--upstream", stub.baseURL, "--out", out, ...args]);
    const client = openAiClient(`${url}/v1`);
    const acknowledged: string[] = [];
    let stop = false;
    let sent = 0;
    const workers = Array.from({ length: 8 }, async (_, worker) => {
      while (!stop) {
        const content = `worker ${worker} call ${sent++}`;
        try {
          const reply = await client.chat.completions.create({
            model: "m",
            messages: [{ role: "user", content }],
          });
          acknowledged.push(reply.choices[0]?.message.content as string);
        } catch {
          return; // the gateway is gone
        }
      }
    });
    while (acknowledged.length < 200) await new Promise((resolveWait) => setTimeout(resolveWait, 5));
    child.kill("SIGKILL");
    stop = true;
    await Promise.all(workers);
    expect(await exited(child)).toBe("SIGKILL");
    const { dataset } = await JsonlSink.recover(out, { repair: false });
    const recorded = new Set(dataset.items.map((item) => item.action));
    const lost = acknowledged.filter((answer) => !recorded.has(answer));
    expect(acknowledged.length).toBeGreaterThanOrEqual(200);
    expect(lost).toEqual([]);
    expect(dataset.items.every((item) => item.status === "success")).toBe(true);
    return dataset;
  }

  it('loses no acknowledged call to SIGKILL with "synced" answers (after fdatasync)', async () => {
    await killUnderLoad(join(folder.path, "kill-synced.jsonl"), ["--durability", "synced"]);
  });

  it("loses no acknowledged call to SIGKILL by default (answers after the write), and restarts on the same file", async () => {
    const out = join(folder.path, "kill.jsonl");
    const dataset = await killUnderLoad(out, []);

    // A restart on the same file resumes appending after the last complete line.
    const again = await startCli(["--upstream", stub.baseURL, "--out", out]);
    const client2 = openAiClient(`${again.url}/v1`);
    await client2.chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "after restart" }],
    });
    again.child.kill("SIGINT");
    expect(await exited(again.child)).toBe(0);
    const items = await readRecords(out);
    expect(items.at(-1)?.action).toBe("echo: after restart");
    expect(items.length).toBeGreaterThanOrEqual(dataset.items.length + 1);
  });
});
