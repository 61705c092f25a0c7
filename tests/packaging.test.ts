/**
 * The published artefact, proven: every package is packed as it would be published, checked with publint
 * (strict) and Are The Types Wrong, installed alone with npm into an empty project (its sibling @orbiter
 * packages from their own tarballs, everything else from the registry), imported, and its README quick start
 * is run. It fails if a package leaks a `workspace:` range, imports something it does not declare, or ships a
 * README snippet that does not run.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const packageDirs = (await readdir(join(root, "packages"), { withFileTypes: true }))
  .filter((entry) => entry.isDirectory() && existsSync(join(root, "packages", entry.name, "package.json")))
  .map((entry) => entry.name)
  .sort();

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  exports?: unknown;
}

let workDir = "";
const tarballs = new Map<string, string>();

/** Reads the package.json inside a tarball, as npm will see it. */
async function packedManifest(tarball: string): Promise<Manifest> {
  const { stdout } = await run("tar", ["-xzOf", tarball, "package/package.json"], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout) as Manifest;
}

/** Lists the files inside a tarball. */
async function packedFiles(tarball: string): Promise<string[]> {
  const { stdout } = await run("tar", ["-tzf", tarball], { maxBuffer: 1 << 24 });
  return stdout.split("\n").filter(Boolean);
}

/** Bare module specifiers imported by the built JavaScript of a package. */
async function importedPackages(dir: string): Promise<Set<string>> {
  const found = new Set<string>();
  const dist = join(dir, "dist");
  for (const file of await readdir(dist, { recursive: true })) {
    if (!file.endsWith(".js")) continue;
    const code = await readFile(join(dist, file), "utf8");
    for (const match of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"'./][^"']*)["']/g)) {
      const specifier = match[1] as string;
      if (specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0] as string))
        continue;
      const parts = specifier.split("/");
      found.add(specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] as string));
    }
  }
  return found;
}

/** The first ```js block under "## Quick start" in a README. */
function quickStart(readme: string): string | undefined {
  const section = readme.split(/^## Quick start\s*$/m)[1];
  return section?.match(/```js\n([\s\S]*?)```/)?.[1];
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "orbiter-packaging-"));
  for (const dir of packageDirs) {
    const packageDir = join(root, "packages", dir);
    if (!existsSync(join(packageDir, "dist", "index.js"))) {
      throw new Error(`packages/${dir} is not built: run \`pnpm build\` (pnpm test does) before this suite`);
    }
    const { stdout } = await run("pnpm", ["pack", "--pack-destination", workDir], { cwd: packageDir });
    const tarball = stdout.trim().split("\n").pop() as string;
    const manifest = await packedManifest(tarball);
    tarballs.set(manifest.name, tarball);
  }
}, 300_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe.each(packageDirs)("packages/%s", (dir) => {
  const packageDir = join(root, "packages", dir);

  it("packs without workspace ranges, with only dist/ and metadata, and declares every import", async () => {
    const source = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as Manifest;
    const tarball = tarballs.get(source.name) as string;
    const manifest = await packedManifest(tarball);
    expect(JSON.stringify(manifest)).not.toContain("workspace:");
    expect(JSON.stringify(manifest.exports)).not.toContain("./src/");
    const files = await packedFiles(tarball);
    expect(files).toContain("package/dist/index.js");
    expect(files).toContain("package/dist/index.d.ts");
    expect(files).toContain("package/README.md");
    expect(files.filter((file) => file.startsWith("package/src/"))).toEqual([]);
    const declared = new Set([
      manifest.name,
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    ]);
    const undeclared = [...(await importedPackages(packageDir))].filter((name) => !declared.has(name));
    expect(undeclared, `${source.name} imports packages it does not declare`).toEqual([]);
  });

  it("passes publint --strict", async () => {
    const { stdout } = await run(bin("publint"), ["--strict", "--pack", "pnpm"], { cwd: packageDir });
    expect(stdout).not.toMatch(/error|warning|suggestion/i);
  });

  it("passes Are The Types Wrong (esm-only profile)", async () => {
    const source = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as Manifest;
    const tarball = tarballs.get(source.name) as string;
    // attw exits non-zero on any problem that the esm-only profile counts; the JSON lists them all, including
    // the CommonJS resolutions that profile ignores on purpose (an ESM-only package cannot be require()d on Node 20).
    const { stdout } = await run(bin("attw"), [tarball, "--profile", "esm-only", "--format", "json"], {
      cwd: packageDir,
      maxBuffer: 1 << 26,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? "{}" }));
    const report = JSON.parse(stdout).analysis as {
      problems?: Array<{ kind: string; resolutionKind?: string }>;
    };
    const ignored = new Set(["node10", "node16-cjs"]);
    const problems = (report.problems ?? []).filter((p) => !ignored.has(p.resolutionKind ?? ""));
    expect(report.problems, "attw produced no report").toBeDefined();
    expect(problems).toEqual([]);
  });

  it("installs alone with npm, imports, and runs its README quick start", async () => {
    const source = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as Manifest;
    const project = join(workDir, `install-${dir}`);
    await mkdir(project, { recursive: true });
    const overrides = Object.fromEntries(
      [...tarballs].filter(([name]) => name !== source.name).map(([name, file]) => [name, `file:${file}`]),
    );
    await writeFile(
      join(project, "package.json"),
      JSON.stringify({
        name: "orbiter-packaging-check",
        version: "1.0.0",
        private: true,
        type: "module",
        dependencies: { [source.name]: `file:${tarballs.get(source.name)}` },
        overrides,
      }),
    );
    await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: project,
      maxBuffer: 1 << 26,
    });
    const probe = `const m = await import(${JSON.stringify(source.name)}); console.log(Object.keys(m).length);`;
    const imported = await run("node", ["--input-type=module", "-e", probe], { cwd: project });
    expect(Number(imported.stdout.trim())).toBeGreaterThan(0);

    const readme = await readFile(join(packageDir, "README.md"), "utf8");
    const snippet = quickStart(readme);
    expect(snippet, `${source.name} README has no \`## Quick start\` js block`).toBeTruthy();
    await writeFile(join(project, "quick-start.mjs"), snippet as string);
    const ran = await run("node", ["quick-start.mjs"], {
      cwd: project,
      timeout: 240_000,
      maxBuffer: 1 << 24,
    });
    expect(ran.stdout.trim().length).toBeGreaterThan(0);
  });
});
