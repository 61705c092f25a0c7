import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError } from "@orbiter/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrajectoryDataset } from "../dataset/trajectory-dataset.js";
import type { ImportWarning } from "./import-options.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "orbiter-trajectory-import-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

let counter = 0;
async function file(extension: string, content: string | Buffer): Promise<string> {
  const path = join(directory, `case-${counter++}.${extension}`);
  await writeFile(path, content);
  return path;
}

async function rejection(promise: Promise<unknown>): Promise<InvalidArgumentError> {
  try {
    await promise;
  } catch (error) {
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    return error as InvalidArgumentError;
  }
  throw new Error("expected a rejection");
}

const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ state: "s", action: "a", reward: 1, ...fields });

describe("fromJsonl", () => {
  const content = [
    line({ id: "one" }),
    "",
    "{not json",
    line({ id: "four", reward: "high" }),
    line({ id: "five", extra: true }),
    line({ id: "six" }),
  ].join("\n");

  it("names the line of the first malformed record", async () => {
    const path = await file("jsonl", `${content}\n`);
    const error = await rejection(TrajectoryDataset.fromJsonl(path));
    expect(error.line).toBe(3);
    expect(error.message).toContain(`${path}:3`);
    expect(error.message).toContain("not valid JSON");
  });

  it("names the line and the field of an invalid item", async () => {
    const path = await file("jsonl", `${line({ id: "one" })}\n${line({ reward: Number.NaN })}\n`);
    const error = await rejection(TrajectoryDataset.fromJsonl(path));
    // JSON.stringify wrote NaN as null
    expect([error.line, error.field]).toEqual([2, "reward"]);
    expect(error.message).toContain("line 2");
  });

  it("skips and reports malformed records with { onError: 'skip' }", async () => {
    const path = await file("jsonl", `${content}\n`);
    const warnings: ImportWarning[] = [];
    const dataset = await TrajectoryDataset.fromJsonl(path, {
      onError: "skip",
      onWarning: (warning) => warnings.push(warning),
    });
    expect(dataset.items.map((item) => item.id)).toEqual(["one", "six"]);
    expect(warnings.map((warning) => [warning.kind, warning.line, warning.error.field])).toEqual([
      ["invalid-record", 3, ""],
      ["invalid-record", 4, "reward"],
      ["invalid-record", 5, "extra"],
    ]);
    expect(warnings.every((warning) => warning.path === path)).toBe(true);
  });

  it("reports skipped records as process warnings when no callback is given", async () => {
    const path = await file("jsonl", `${content}\n`);
    const seen: string[] = [];
    const listener = (warning: Error & { code?: string }) => {
      if (warning.code === "ORBITER_TRAJECTORY_IMPORT") seen.push(warning.message);
    };
    process.on("warning", listener);
    try {
      await TrajectoryDataset.fromJsonl(path, { onError: "skip" });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", listener);
    }
    expect(seen).toHaveLength(3);
    expect(seen[0]).toContain(":3:");
  });

  it("treats an incomplete last line as a malformed record, and keeps a complete one without newline", async () => {
    const torn = await file("jsonl", `${line({ id: "one" })}\n${line({ id: "two" }).slice(0, 20)}`);
    const error = await rejection(TrajectoryDataset.fromJsonl(torn));
    expect(error.line).toBe(2);
    expect(error.message).toContain("incomplete");
    const warnings: ImportWarning[] = [];
    const skipped = await TrajectoryDataset.fromJsonl(torn, {
      onError: "skip",
      onWarning: (w) => warnings.push(w),
    });
    expect(skipped.length).toBe(1);
    expect(warnings.map((w) => [w.kind, w.line])).toEqual([["incomplete-record", 2]]);

    const complete = await file("jsonl", `${line({ id: "one" })}\n${line({ id: "two" })}`);
    expect((await TrajectoryDataset.fromJsonl(complete)).items.map((item) => item.id)).toEqual([
      "one",
      "two",
    ]);
  });

  it("reads CRLF line endings, a byte-order mark and blank lines", async () => {
    const path = await file("jsonl", `\uFEFF${line({ id: "one" })}\r\n\r\n   \r\n${line({ id: "two" })}\r\n`);
    expect((await TrajectoryDataset.fromJsonl(path)).items.map((item) => item.id)).toEqual(["one", "two"]);
  });

  it("names a line that is not valid UTF-8", async () => {
    const bytes = Buffer.concat([
      Buffer.from(`${line({ id: "one" })}\n`),
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
      Buffer.from(`${line({ id: "three" })}\n`),
    ]);
    const path = await file("jsonl", bytes);
    const error = await rejection(TrajectoryDataset.fromJsonl(path));
    expect([error.line, error.message.includes("UTF-8")]).toEqual([2, true]);
    const dataset = await TrajectoryDataset.fromJsonl(path, { onError: "skip", onWarning: () => {} });
    expect(dataset.items.map((item) => item.id)).toEqual(["one", "three"]);
  });

  it("validates its arguments", async () => {
    const path = await file("jsonl", "");
    expect((await rejection(TrajectoryDataset.fromJsonl(path, { onError: "ignore" } as never))).field).toBe(
      "options.onError",
    );
    expect((await rejection(TrajectoryDataset.fromJsonl(""))).field).toBe("path");
    await expect(TrajectoryDataset.fromJsonl(join(directory, "missing.jsonl"))).rejects.toMatchObject({
      name: "InvalidArgumentError",
      field: "path",
      cause: { code: "ENOENT" },
    });
    expect((await TrajectoryDataset.fromJsonl(path)).length).toBe(0);
  });
});

describe("fromJson", () => {
  it("reads a pretty-printed array and names the line where a bad element starts", async () => {
    const items = [
      { id: "one", state: "s", action: "a", reward: 1 },
      { id: "two", state: "s", action: "a", reward: "bad" },
    ];
    const path = await file("json", JSON.stringify(items, null, 2));
    const error = await rejection(TrajectoryDataset.fromJson(path));
    // "[", then 6 lines for the first element: the second starts on line 8
    expect([error.line, error.field]).toEqual([8, "reward"]);
    const warnings: ImportWarning[] = [];
    const dataset = await TrajectoryDataset.fromJson(path, {
      onError: "skip",
      onWarning: (w) => warnings.push(w),
    });
    expect(dataset.items.map((item) => item.id)).toEqual(["one"]);
    expect(warnings.map((w) => w.line)).toEqual([8]);
  });

  it("reads a byte-order mark, CRLF line breaks and white space between elements", async () => {
    const path = await file(
      "json",
      `\uFEFF[\r\n  ${line({ id: "one" })} ,\r\n\t${line({ id: "two" })}\r\n]\r\n`,
    );
    expect((await TrajectoryDataset.fromJson(path)).items.map((item) => item.id)).toEqual(["one", "two"]);
    const empty = await file("json", " [ ] \n");
    expect((await TrajectoryDataset.fromJson(empty)).length).toBe(0);
  });

  it("names the line of invalid UTF-8", async () => {
    const path = await file(
      "json",
      Buffer.concat([Buffer.from(`[\n${line({ id: "one" })},\n"`), Buffer.from([0xff]), Buffer.from('"]')]),
    );
    const error = await rejection(TrajectoryDataset.fromJson(path));
    expect(error.message).toContain("UTF-8");
  });

  it("names the line of a bad element written one per line, and checks what follows it", async () => {
    const content = `[\n${line({ id: "one" })},\n${line({ id: "two", reward: "x" })},\n${line({ id: "three" })}\n]\n`;
    const path = await file("json", content);
    const error = await rejection(TrajectoryDataset.fromJson(path));
    expect([error.line, error.field]).toEqual([3, "reward"]);
    const warnings: ImportWarning[] = [];
    const dataset = await TrajectoryDataset.fromJson(path, {
      onError: "skip",
      onWarning: (w) => warnings.push(w),
    });
    expect(dataset.items.map((item) => item.id)).toEqual(["one", "three"]);
    expect(warnings.map((w) => w.line)).toEqual([3]);

    const missingComma = await file("json", `[\n${line({ id: "one" })}\n${line({ id: "two" })}\n]`);
    const structural = await rejection(TrajectoryDataset.fromJson(missingComma));
    expect([structural.line, structural.message.includes("expected ',' or ']'")]).toEqual([3, true]);
    const sameLine = await file("json", `[${line({ id: "one" })}, ${line({ id: "two" })}]`);
    expect((await TrajectoryDataset.fromJson(sameLine)).items.map((item) => item.id)).toEqual(["one", "two"]);
  });

  it("keeps brackets, commas and escapes inside strings out of the structure", async () => {
    const tricky = 'a "quoted" ] , } { [ \\ string';
    const path = await file("json", JSON.stringify([{ state: tricky, action: "\\", reward: 0 }]));
    expect((await TrajectoryDataset.fromJson(path)).items[0]?.state).toBe(tricky);
  });

  it.each([
    ['{"state": "s"}', 1, "expected '['"],
    ['[\n{"state": "s", "action": "a", "reward": 1},\n]', 3, "followed by ']'"],
    ['[{"state": "s", "action": "a", "reward": 1}]\n\nextra', 3, "after the closing"],
    ["", 1, "empty"],
    ["[\n", 2, "closing ']' is missing"],
  ])("rejects the structure of %j at line %i", async (content, lineNumber, message) => {
    const path = await file("json", content);
    const error = await rejection(TrajectoryDataset.fromJson(path, { onError: "skip", onWarning: () => {} }));
    expect(error.line).toBe(lineNumber);
    expect(error.message).toContain(message);
  });

  it("reports a truncated file as an incomplete record", async () => {
    const path = await file("json", `[\n${line({ id: "one" })},\n${line({ id: "two" }).slice(0, 15)}`);
    const error = await rejection(TrajectoryDataset.fromJson(path));
    expect([error.line, error.message.includes("ends in the middle")]).toEqual([3, true]);
    const warnings: ImportWarning[] = [];
    const dataset = await TrajectoryDataset.fromJson(path, {
      onError: "skip",
      onWarning: (w) => warnings.push(w),
    });
    expect(dataset.items.map((item) => item.id)).toEqual(["one"]);
    expect(warnings.map((w) => [w.kind, w.line])).toEqual([["incomplete-record", 3]]);
  });
});

describe("fromCsv", () => {
  const header = "id,timestamp,state,action,reward";

  it("names the line and column of a bad cell", async () => {
    const path = await file("csv", `${header}\na,1,s,x,1\nb,2,s,x,not-a-number\n`);
    const error = await rejection(TrajectoryDataset.fromCsv(path));
    expect([error.line, error.field]).toEqual([3, "reward"]);
  });

  it("names the line where a multi-line record starts", async () => {
    const path = await file(
      "csv",
      `${header},metadata\na,1,"multi\nline\nstate",x,1,{}\nb,2,s,x,1,{bad json\n`,
    );
    const error = await rejection(TrajectoryDataset.fromCsv(path));
    expect([error.line, error.field]).toEqual([5, "metadata"]);
    const quoted = await file("csv", `${header}\na,1,"multi\nline",x,1\nb,2,"s",x,-1.5e400\n`);
    expect((await rejection(TrajectoryDataset.fromCsv(quoted))).line).toBe(4);
  });

  it("rejects numbers outside JSON's grammar and invalid items", async () => {
    for (const cell of ["0x10", " 1", "Infinity", "NaN", "1."]) {
      const path = await file("csv", `${header}\na,1,s,x,${cell}\n`);
      expect((await rejection(TrajectoryDataset.fromCsv(path))).field).toBe("reward");
    }
    const negativeStep = await file("csv", `${header},step\na,1,s,x,1,-1\n`);
    expect((await rejection(TrajectoryDataset.fromCsv(negativeStep))).field).toBe("step");
  });

  it("reads any subset and order of the known columns", async () => {
    const path = await file("csv", 'reward,action,state,taskId\n0.5,"a,b",s,\n');
    const [item] = (await TrajectoryDataset.fromCsv(path)).items;
    expect(item).toMatchObject({ reward: 0.5, action: "a,b", state: "s", metadata: {} });
    expect(item && "taskId" in item).toBe(false);
  });

  it.each([
    ["id,state,action,reward,colour\n", "colour", "unknown column"],
    ["id,state,action\n", "reward", 'no "reward" column'],
    ["state,action,reward,state\n", "state", "twice"],
  ])("rejects the header %j", async (content, field, message) => {
    const path = await file("csv", content);
    const error = await rejection(TrajectoryDataset.fromCsv(path, { onError: "skip", onWarning: () => {} }));
    expect([error.line, error.field]).toEqual([1, field]);
    expect(error.message).toContain(message);
  });

  it("turns csv-parse errors into InvalidArgumentError naming the line, or skips them", async () => {
    const path = await file("csv", `${header}\na,1,s,x,1\nb,2,s,x,1,surplus\nc,3,s,x,1\n`);
    const error = await rejection(TrajectoryDataset.fromCsv(path));
    expect(error.line).toBe(3);
    const warnings: ImportWarning[] = [];
    const dataset = await TrajectoryDataset.fromCsv(path, {
      onError: "skip",
      onWarning: (w) => warnings.push(w),
    });
    expect(dataset.items.map((item) => item.id)).toEqual(["a", "c"]);
    expect(warnings.map((w) => w.line)).toEqual([3]);
  });

  it("names the line where a record that csv-parse refuses starts, not where parsing stopped", async () => {
    const unclosed = await file("csv", `${header}\na,1,s,x,1\nb,2,"never closed,x,1\nc,3,s,x,1\nd,4,s,x,1\n`);
    expect((await rejection(TrajectoryDataset.fromCsv(unclosed))).line).toBe(3);
    const warnings: ImportWarning[] = [];
    const kept = await TrajectoryDataset.fromCsv(unclosed, {
      onError: "skip",
      onWarning: (w) => warnings.push(w),
    });
    expect(kept.items.map((item) => item.id)).toEqual(["a"]);
    expect(warnings.map((w) => w.line)).toEqual([3]);
    const long = await file("csv", `${header}\na,1,s,x,1\n\nb,2,"multi\nline",x,1,surplus\nc,3,s,x,1\n`);
    expect((await rejection(TrajectoryDataset.fromCsv(long))).line).toBe(4);
    const skipped: ImportWarning[] = [];
    await TrajectoryDataset.fromCsv(long, { onError: "skip", onWarning: (w) => skipped.push(w) });
    expect(skipped.map((w) => w.line)).toEqual([4]);
    const both = await file("csv", `${header}\na,1,s,x,1\nb,2,s,x,1,surplus\nc,3,s,x,oops\nd,4,s,x,1\n`);
    const reported: ImportWarning[] = [];
    const rest = await TrajectoryDataset.fromCsv(both, {
      onError: "skip",
      onWarning: (w) => reported.push(w),
    });
    expect(rest.items.map((item) => item.id)).toEqual(["a", "d"]);
    expect(reported.map((w) => w.line)).toEqual([3, 4]);
  });

  it("rejects an empty file and an unclosed quote", async () => {
    expect((await rejection(TrajectoryDataset.fromCsv(await file("csv", "")))).message).toContain("empty");
    const unclosed = await file("csv", `${header}\na,1,"never closed,x,1\n`);
    expect((await rejection(TrajectoryDataset.fromCsv(unclosed))).line).toBeGreaterThanOrEqual(2);
  });
});
