import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fixturePipeline, fixtureSeed } from "../internal/testing/checkpoint-fixture.js";

const fixture = fileURLToPath(new URL("../internal/testing/checkpoint-fixture.ts", import.meta.url));
const packageDir = fileURLToPath(new URL("../..", import.meta.url));

const sampleLines = (path: string) =>
  existsSync(path) ? (readFileSync(path, "utf8").match(/"kind":"sample"/g) ?? []).length : 0;

describe("resume after a killed process", () => {
  it("a run killed with SIGKILL and started again ends with the uninterrupted items", async () => {
    const reference = await fixturePipeline(undefined).run(fixtureSeed);
    const path = join(mkdtempSync(join(tmpdir(), "orbiter-synthesis-kill-")), "run.jsonl");
    const child = spawn(
      process.execPath,
      ["--conditions=@orbiter/source", "--import", "tsx", fixture, path, "40"],
      {
        cwd: packageDir,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.on("exit", (code, signal) => resolve(signal ?? code)),
    );
    // Kill it part-way: once a good share (but not all) of the samples are on disk.
    const deadline = Date.now() + 60_000;
    while (sampleLines(path) < 35 && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill("SIGKILL");
    expect(await exited, stderr).toBe("SIGKILL");
    const before = sampleLines(path);
    expect(before).toBeGreaterThanOrEqual(35);
    expect(before).toBeLessThan(reference.items.length);

    const resumed = await fixturePipeline(path).run(fixtureSeed);
    expect(resumed.resumed).toBe(true);
    expect(resumed.items).toEqual(reference.items);
    expect(new Set(resumed.items.map((s) => s.id)).size).toBe(resumed.items.length);
    expect(sampleLines(path)).toBe(reference.items.length);
  });
});
