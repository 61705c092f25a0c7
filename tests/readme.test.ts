/**
 * The root README's tour must run as written: every ```ts block under "## A tour" is written to a module inside
 * the repository (so workspace packages resolve to their sources) and imported. Each snippet prints its checks
 * with console.log; none of them may print false, undefined or NaN.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";

const root = resolve(import.meta.dirname, "..");
const readme = await readFile(join(root, "README.md"), "utf8");
const tour = readme.split(/^## A tour\s*$/m)[1]?.split(/^## /m)[0] ?? "";
const snippets = [...tour.matchAll(/^### (.+)\n[\s\S]*?```ts\n([\s\S]*?)```/gm)].map((match) => ({
  title: match[1] as string,
  code: match[2] as string,
}));
// Inside the examples app, which depends on every package.
const scratch = join(root, "apps", "examples", ".readme-snippets");

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("README tour", () => {
  it("has a snippet for each package", () => {
    expect(snippets.map((snippet) => snippet.title.split(":")[0])).toEqual([
      "Trajectories",
      "Gateway",
      "Synthesis",
      "Trainer",
      "Evolution",
      "VeRL",
    ]);
  });

  it.each(snippets)(
    "runs: $title",
    async ({ title, code }) => {
      await mkdir(scratch, { recursive: true });
      const file = join(scratch, `${title.split(":")[0]?.toLowerCase()}.ts`);
      await writeFile(file, `${code}\nexport {};\n`);
      const printed: unknown[][] = [];
      const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
        printed.push(args);
      });
      try {
        await import(/* @vite-ignore */ file);
      } finally {
        spy.mockRestore();
      }
      expect(printed.length).toBeGreaterThan(0);
      for (const line of printed) {
        for (const value of line) {
          expect(value, `${title} printed ${JSON.stringify(line)}`).not.toBe(false);
          expect(value).not.toBeUndefined();
          expect(Number.isNaN(value)).toBe(false);
        }
      }
    },
    120_000,
  );
});
