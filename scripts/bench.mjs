#!/usr/bin/env node
// Runs every package's benchmark one after the other (they must not share the 2 cores) and collects their
// JSON lines into bench-results/summary.json. Each line is printed as it comes, so the output stays
// machine-readable: JSON objects one per line, anything else is progress.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const only = process.argv.slice(2);
const packages = readdirSync(join(root, "packages"))
  .filter((dir) => existsSync(join(root, "packages", dir, "bench", "index.ts")))
  .filter((dir) => only.length === 0 || only.includes(dir));

mkdirSync(join(root, "bench-results"), { recursive: true });
const results = [];
let failed = false;
for (const dir of packages) {
  const manifest = JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8"));
  process.stderr.write(`# ${manifest.name}\n`);
  const code = await new Promise((resolve) => {
    const child = spawn("pnpm", ["--silent", "--filter", manifest.name, "bench"], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let buffer = "";
    child.stdout.on("data", (chunk) => {
      buffer += chunk;
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        process.stdout.write(`${line}\n`);
        if (line.startsWith("{")) {
          try {
            results.push({ package: manifest.name, ...JSON.parse(line) });
          } catch {
            /* not a measurement */
          }
        }
        newline = buffer.indexOf("\n");
      }
    });
    child.on("close", resolve);
  });
  if (code !== 0) {
    failed = true;
    process.stderr.write(`# ${manifest.name} bench exited with ${code}\n`);
  }
}
writeFileSync(join(root, "bench-results", "summary.json"), `${JSON.stringify(results, null, 2)}\n`);
const missed = results.filter((r) => r.pass === false);
process.stderr.write(
  `# ${results.length} measurements, ${missed.length} missed their target; see bench-results/summary.json\n`,
);
process.exit(failed ? 1 : 0);
