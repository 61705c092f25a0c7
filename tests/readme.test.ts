/**
 * The root README's tour and its "When one machine is not enough" section must run as written: every ```ts block
 * under those headings is written to a module inside the repository (so workspace packages resolve to their
 * sources) and imported. Each snippet prints its checks with console.log; none of them may print false,
 * undefined or NaN.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";

const root = resolve(import.meta.dirname, "..");
const readme = await readFile(join(root, "README.md"), "utf8");
/** The ```ts snippet of each `###` subsection of a `##` section. */
function snippetsOf(heading: string): Array<{ title: string; code: string }> {
  const section = readme.split(new RegExp(`^## ${heading}\\s*$`, "m"))[1]?.split(/^## /m)[0] ?? "";
  return [...section.matchAll(/^### (.+)\n[\s\S]*?```ts\n([\s\S]*?)```/gm)].map((match) => ({
    title: match[1] as string,
    code: match[2] as string,
  }));
}
const snippets = snippetsOf("A tour");
const handoffSnippets = snippetsOf("When one machine is not enough");
// Inside the examples app, which depends on every package.
const scratch = join(root, "apps", "examples", ".readme-snippets");

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Writes a snippet into the examples app, imports it, and checks what it printed. */
async function runSnippet({ title, code }: { title: string; code: string }): Promise<unknown[][]> {
  await mkdir(scratch, { recursive: true });
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  const file = join(scratch, `${slug}.ts`);
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
  return printed;
}

describe("README tour", () => {
  it("has a snippet for each package", () => {
    expect(snippets.map((snippet) => snippet.title.split(":")[0])).toEqual([
      "Trajectories",
      "Gateway",
      "Synthesis",
      "Trainer",
      "Evolution",
      "VeRL",
      "Agent mode",
    ]);
  });

  it.each(snippets)(
    "runs: $title",
    async (snippet) => {
      await runSnippet(snippet);
    },
    120_000,
  );
});

describe('README "When one machine is not enough"', () => {
  it("has the verl job and the fine-tuning file walk-throughs", () => {
    expect(handoffSnippets.map((snippet) => snippet.title)).toEqual([
      "To verl on a Ray cluster",
      "To an OpenAI-format or TRL fine-tuning file",
    ]);
  });

  it("exports a verl job of the expected length", async () => {
    const printed = await runSnippet(handoffSnippets[0] as { title: string; code: string });
    expect(printed[0]?.[0]).toBe(6);
    expect(String(printed[0]?.[1])).toMatch(/^bash .*run_verl\.sh$/);
  }, 120_000);

  it("writes one SFT row and one preference pair from two recorded episodes", async () => {
    const printed = await runSnippet(handoffSnippets[1] as { title: string; code: string });
    expect(printed[0]).toEqual([2, 1, 1, 1]);
  }, 120_000);
});
