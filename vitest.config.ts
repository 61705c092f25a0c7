import { readdirSync } from "node:fs";
import { defineConfig } from "vitest/config";

/** Resolve workspace packages to their TypeScript sources, so tests never wait on a build. */
const conditions = ["@orbiter/source", "module", "node", "development|production"];

const packageProjects = readdirSync(new URL("./packages", import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => ({
    extends: true as const,
    test: {
      name: entry.name,
      root: `packages/${entry.name}`,
      include: ["src/**/*.test.ts"],
      typecheck: { enabled: true, include: ["src/**/*.test-d.ts"] },
    },
  }));

const jsonReport = process.env.ORBITER_VITEST_JSON;

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["@orbiter/source"] } },
  test: {
    reporters: jsonReport ? ["default", "json"] : ["default"],
    ...(jsonReport ? { outputFile: { json: jsonReport } } : {}),
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      ...packageProjects,
      {
        extends: true,
        test: { name: "examples", root: "apps/examples", include: ["src/**/*.test.ts"] },
      },
      {
        extends: true,
        test: { name: "test-support", root: "tooling/test-support", include: ["src/**/*.test.ts"] },
      },
      {
        extends: true,
        test: { name: "repo", root: "tests", include: ["*.test.ts"], testTimeout: 900_000 },
      },
    ],
  },
});
