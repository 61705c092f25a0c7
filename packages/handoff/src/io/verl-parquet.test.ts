import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { InvalidArgumentError } from "@orbiter/types";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verlRows } from "../__fixtures__/arbitraries.js";
import { verlRowsFromSamples } from "../convert/sample-rows.js";
import type { VerlRow } from "../formats/verl-row.js";
import { readVerlParquet, writeVerlParquet } from "./verl-parquet.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "handoff-parquet-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rows: VerlRow[] = [
  ...verlRowsFromSamples(
    [
      { id: "s1", input: "3+4=", output: "7", metadata: {} },
      { id: "s2", input: "Ünïcødé 😀 \u2028 prompt", output: "ground\ntruth", metadata: {} },
    ],
    {
      dataSource: "arithmetic",
      ability: "math",
      systemPrompt: "Answer with a number.",
      extraInfo: (_, i) => ({
        level: i + 1,
        ratio: i === 0 ? 0.5 : 2,
        ok: i === 0,
        note: i === 0 ? null : "x",
      }),
    },
  ),
];

async function duckdb(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe("verl Parquet", () => {
  it("is read by duckdb with verl's schema and the same rows, and by our reader", async () => {
    const path = join(dir, "train.parquet");
    const summary = await writeVerlParquet(path, rows);
    expect(summary.rows).toBe(2);
    expect(summary.sha256).toMatch(/^[0-9a-f]{64}$/);
    const columns = await duckdb(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    expect(Object.fromEntries(columns.map((column) => [column.column_name, column.column_type]))).toEqual({
      data_source: "VARCHAR",
      prompt: 'STRUCT("role" VARCHAR, "content" VARCHAR)[]',
      ability: "VARCHAR",
      reward_model: "STRUCT(style VARCHAR, ground_truth VARCHAR)",
      extra_info:
        'STRUCT("level" BIGINT, ratio DOUBLE, ok BOOLEAN, note VARCHAR, split VARCHAR, "index" BIGINT, sample_id VARCHAR, "input" VARCHAR)',
    });
    const seen = await duckdb(
      `SELECT data_source, to_json(prompt) AS prompt, ability, reward_model.ground_truth AS truth,
              extra_info."index" AS idx, extra_info.ratio AS ratio, extra_info.note AS note, extra_info."input" AS input
         FROM read_parquet('${path}')`,
    );
    expect(seen).toEqual([
      {
        data_source: "arithmetic",
        prompt: JSON.stringify(rows[0]?.prompt),
        ability: "math",
        truth: "7",
        idx: "0",
        ratio: 0.5,
        note: null,
        input: "3+4=",
      },
      {
        data_source: "arithmetic",
        prompt: JSON.stringify(rows[1]?.prompt),
        ability: "math",
        truth: "ground\ntruth",
        idx: "1",
        ratio: 2,
        note: "x",
        input: "Ünïcødé 😀 \u2028 prompt",
      },
    ]);
    expect(await readVerlParquet(path)).toEqual(rows);
  });

  it("round-trips hostile Unicode and typed extra_info exactly, over several row groups", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(verlRows, fc.integer({ min: 1, max: 5 }), async (generated, rowGroupSize) => {
        const path = join(dir, `property-${run++}.parquet`);
        const summary = await writeVerlParquet(path, generated, { rowGroupSize });
        expect(summary.rows).toBe(generated.length);
        expect(await readVerlParquet(path)).toEqual(generated);
      }),
      { numRuns: 60, seed: 12 },
    );
  });

  it("streams from an async iterable", async () => {
    async function* produce() {
      for (const row of rows) yield row;
    }
    const path = join(dir, "streamed.parquet");
    await writeVerlParquet(path, produce(), { rowGroupSize: 1 });
    expect(await readVerlParquet(path)).toEqual(rows);
  });

  it("refuses bad rows with a typed error naming the field, leaving no file", async () => {
    const bad = join(dir, "bad");
    await rm(bad, { recursive: true, force: true });
    await import("node:fs/promises").then((fs) => fs.mkdir(bad));
    const base = rows[0] as VerlRow;
    const cases: Array<[unknown[], string]> = [
      [[{ ...base, prompt: [] }], "rows[0].prompt"],
      [[{ ...base, prompt: undefined }], "rows[0].prompt"],
      [
        [base, { ...base, reward_model: { style: "rule", ground_truth: 7 } }],
        "rows[1].reward_model.ground_truth",
      ],
      [[base, { ...base, extra_info: { ...base.extra_info, extra: 1 } }], "rows[1].extra_info.extra"],
      [[base, { ...base, extra_info: { split: "train", index: 1 } }], "rows[1].extra_info.level"],
      [[base, { ...base, extra_info: { ...base.extra_info, ok: "yes" } }], "rows[1].extra_info.ok"],
      [[{ ...base, ability: "lone \uD800 surrogate" }], "rows[0].ability"],
      [[{ ...base, extra_info: { ...base.extra_info, "bad key": 1 } }], "rows[0].extra_info.bad key"],
      [[], "rows"],
    ];
    for (const [input, field] of cases) {
      const error = await writeVerlParquet(join(bad, "out.parquet"), input as VerlRow[]).catch(
        (caught: unknown) => caught,
      );
      expect(InvalidArgumentError.isInstance(error), `${field}: ${String(error)}`).toBe(true);
      expect((error as InvalidArgumentError).field).toBe(field);
      expect(await readdir(bad)).toEqual([]);
    }
  });

  it("refuses a file that is not Parquet (or is cut short) with a typed error naming it", async () => {
    const notParquet = join(dir, "notes.parquet");
    await writeFile(notParquet, "plain text, not a Parquet file");
    const written = await writeVerlParquet(join(dir, "whole.parquet"), rows.slice(0, 3));
    const truncated = join(dir, "truncated.parquet");
    await writeFile(truncated, (await readFile(written.path)).subarray(0, 40));
    for (const path of [notParquet, truncated]) {
      const error = await readVerlParquet(path).catch((caught: unknown) => caught);
      expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
      expect((error as InvalidArgumentError).field).toBe("path");
      expect((error as InvalidArgumentError).message).toContain(path);
    }
  });

  it("names the path a writer cannot use (a folder, a missing folder, a file in the way), leaving nothing", async () => {
    const blocker = join(dir, "blocker");
    await writeFile(blocker, "a file, not a folder");
    const cases: Array<[string, RegExp]> = [
      [dir, /it is a folder, not a file/],
      [join(dir, "missing", "train.parquet"), /does not exist/],
      [join(blocker, "train.parquet"), /a part of the path is a file/],
    ];
    for (const [path, reason] of cases) {
      const error = await writeVerlParquet(path, rows.slice(0, 2)).catch((caught: unknown) => caught);
      expect(InvalidArgumentError.isInstance(error), String(error)).toBe(true);
      expect((error as InvalidArgumentError).field).toBe("path");
      expect((error as InvalidArgumentError).message).toContain(JSON.stringify(path));
      expect((error as InvalidArgumentError).message).toMatch(reason);
    }
    expect((await readdir(dir)).filter((name) => name.includes(".tmp"))).toEqual([]);
  });
});
