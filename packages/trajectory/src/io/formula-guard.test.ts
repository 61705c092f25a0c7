import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TrajectoryDataset } from "../dataset/trajectory-dataset.js";
import { FORMULA_TRIGGERS, guardCsvCell, unguardCsvCell } from "./formula-guard.js";

describe("formula guard", () => {
  it.each([
    ["=SUM(A1:A9)", "'=SUM(A1:A9)"],
    ["+1", "'+1"],
    ["-1", "'-1"],
    ["@cmd", "'@cmd"],
    ["\tindent", "'\tindent"],
    ["\rreturn", "'\rreturn"],
    ["'already", "''already"],
    ["plain", "plain"],
    ["", "'"],
    [" =spaced", " =spaced"],
  ])("guards %j as %j", (text, guarded) => {
    expect(guardCsvCell(text)).toBe(guarded);
    expect(unguardCsvCell(guarded)).toBe(text);
  });

  it("is reversible for any text", () => {
    const text = fc.string({
      unit: fc.oneof(fc.constantFrom(...FORMULA_TRIGGERS, "'"), fc.string({ maxLength: 1 })),
    });
    fc.assert(
      fc.property(text, (value) => {
        const guarded = guardCsvCell(value);
        expect(unguardCsvCell(guarded)).toBe(value);
        // a guarded cell never starts with a trigger
        expect(FORMULA_TRIGGERS.includes(guarded.charAt(0))).toBe(false);
      }),
      { numRuns: 2000, seed: 3 },
    );
  });

  it("guards text cells in exported CSV but leaves numbers alone", async () => {
    const directory = await mkdtemp(join(tmpdir(), "orbiter-trajectory-guard-"));
    try {
      const path = join(directory, "guarded.csv");
      const dataset = new TrajectoryDataset();
      dataset.capture({ id: "=1+1", timestamp: 0, state: "@SUM(1)", action: "-2", reward: -0.5, step: 0 });
      await dataset.exportCsv(path);
      const text = await readFile(path, "utf8");
      expect(text.split("\n")[1]).toBe("'=1+1,0,'@SUM(1),'-2,-0.5,{},,,,0,,");
      expect((await TrajectoryDataset.fromCsv(path)).items).toStrictEqual(dataset.items);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
