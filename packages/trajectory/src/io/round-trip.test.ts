import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TrajectoryItemInput } from "@orbiter/types";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TrajectoryDataset } from "../dataset/trajectory-dataset.js";

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "orbiter-trajectory-round-trip-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Characters that break naive CSV/JSON writers or trigger spreadsheet formulas. */
const hazard = fc.constantFrom(
  '"',
  "'",
  ",",
  "\n",
  "\r",
  "\r\n",
  "\t",
  "\\",
  "=",
  "+",
  "-",
  "@",
  " ",
  "\u2028",
  "\u0000",
  "\uFEFF",
  "😀",
  "👩‍👩‍👧",
  "é",
);
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

/** Arbitrary Unicode text weighted towards hazards; lone surrogates only when asked. */
function textArbitrary(withLoneSurrogates: boolean): fc.Arbitrary<string> {
  const units: Array<fc.WeightedArbitrary<string>> = [
    { weight: 4, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
    { weight: 3, arbitrary: hazard },
  ];
  if (withLoneSurrogates) units.push({ weight: 1, arbitrary: loneSurrogate });
  return fc.string({ unit: fc.oneof(...units), maxLength: 16 });
}

const extremeNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(
    -0,
    0,
    5e-324,
    -5e-324,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    Number.MAX_SAFE_INTEGER,
    0.1,
    1e21,
    1e-7,
  ),
);

function jsonValue(text: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  return fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      text,
      extremeNumber,
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("value"), { maxLength: 3 }),
      fc.dictionary(text, tie("value"), { maxKeys: 3 }),
    ),
  })).value;
}

function itemArbitrary(withLoneSurrogates: boolean): fc.Arbitrary<TrajectoryItemInput> {
  const text = textArbitrary(withLoneSurrogates);
  const message = fc.record(
    {
      role: fc.constantFrom("system", "user", "assistant", "tool"),
      content: fc.oneof(text, fc.constant(null), fc.array(fc.record({ type: fc.constant("text"), text }))),
      name: text,
      tool_calls: fc.array(
        fc.record({
          id: text,
          type: fc.constant("function"),
          function: fc.record({ name: text.filter((name) => name.length > 0), arguments: text }),
        }),
        { maxLength: 2 },
      ),
      tool_call_id: text,
    },
    { requiredKeys: ["role"] },
  );
  return fc.record(
    {
      id: text.filter((id) => id.length > 0),
      timestamp: fc.oneof(fc.nat(), fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER)),
      state: text,
      action: text,
      reward: extremeNumber,
      metadata: fc.dictionary(text, jsonValue(text), { maxKeys: 4 }),
      taskId: text,
      agentId: text,
      episodeId: text,
      step: fc.oneof(fc.nat(), fc.constantFrom(-0, Number.MAX_SAFE_INTEGER)),
      status: text,
      messages: fc.array(message, { maxLength: 2 }),
    },
    { requiredKeys: ["id", "timestamp", "state", "action", "reward"] },
  ) as fc.Arbitrary<TrajectoryItemInput>;
}

type Format = "json" | "jsonl" | "csv";

async function roundTrip(
  dataset: TrajectoryDataset,
  format: Format,
  name: string,
): Promise<TrajectoryDataset> {
  const path = join(directory, `${name}.${format}`);
  if (format === "json") {
    await dataset.exportJson(path);
    return TrajectoryDataset.fromJson(path);
  }
  if (format === "jsonl") {
    await dataset.exportJsonl(path);
    return TrajectoryDataset.fromJsonl(path);
  }
  await dataset.exportCsv(path);
  return TrajectoryDataset.fromCsv(path);
}

describe.each<[Format, boolean]>([
  ["json", true],
  ["jsonl", true],
  ["csv", false],
])("%s export then import", (format, withLoneSurrogates) => {
  it("gives back exactly the same items (property)", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(itemArbitrary(withLoneSurrogates), { maxLength: 6 }), async (inputs) => {
        const dataset = new TrajectoryDataset();
        for (const input of inputs) dataset.capture(input);
        const back = await roundTrip(dataset, format, `property-${run++}`);
        // toStrictEqual tells -0 from 0 and an absent key from one holding undefined.
        expect(back.items).toStrictEqual(dataset.items);
      }),
      { numRuns: 120, seed: 42 },
    );
  });

  it("keeps the extreme numbers exactly", async () => {
    const dataset = new TrajectoryDataset();
    const extremes = [-0, 5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 0.1 + 0.2];
    for (const [index, reward] of extremes.entries()) {
      dataset.capture({
        id: `n${index}`,
        timestamp: 0,
        state: "",
        action: "",
        reward,
        metadata: { reward, extremes },
      });
    }
    const back = await roundTrip(dataset, format, "extremes");
    expect(back.items.map((item) => item.reward)).toStrictEqual(extremes);
    expect(Object.is(back.items[0]?.reward, -0)).toBe(true);
    expect(Object.is((back.items[0]?.metadata.extremes as number[] | undefined)?.[0], -0)).toBe(true);
    expect(back.items).toStrictEqual(dataset.items);
  });

  it("streams files larger than a read chunk, with multi-byte text across chunk boundaries", async () => {
    const dataset = new TrajectoryDataset();
    for (let index = 0; index < 3000; index++) {
      dataset.capture({
        id: `big-${index}`,
        timestamp: index,
        state: `😀é,"\n${"x".repeat(index % 700)}`,
        action: "→".repeat(index % 50),
        reward: index / 7,
        metadata: { index },
      });
    }
    // one line longer than the 1 MiB read buffer
    dataset.capture({ id: "huge", timestamp: 1, state: "🚀".repeat(700_000), action: "a", reward: 1 });
    const back = await roundTrip(dataset, format, "big");
    expect(back.length).toBe(3001);
    expect(back.items).toStrictEqual(dataset.items);
  });

  it("round-trips an empty dataset", async () => {
    const back = await roundTrip(new TrajectoryDataset(), format, "empty");
    expect(back.length).toBe(0);
  });
});

describe("JSON and JSONL keep lone surrogates; CSV refuses or replaces them", () => {
  const broken = "emoji cut in half: \uD83D";

  it("JSON and JSONL escape them and read them back", async () => {
    const dataset = new TrajectoryDataset();
    dataset.capture({ state: broken, action: "\uDE00", reward: 0, metadata: { [broken]: broken } });
    for (const format of ["json", "jsonl"] as const) {
      const back = await roundTrip(dataset, format, `surrogate-${format}`);
      expect(back.items).toStrictEqual(dataset.items);
      const text = await readFile(join(directory, `surrogate-${format}.${format}`), "utf8");
      expect(text).toContain("\\ud83d");
    }
  });

  it("CSV throws naming the item and field, leaving the target untouched", async () => {
    const path = join(directory, "surrogate.csv");
    await writeFile(path, "previous content\n");
    const dataset = new TrajectoryDataset();
    dataset.capture({ state: "fine", action: "fine", reward: 0 });
    dataset.capture({ state: broken, action: "fine", reward: 0 });
    await expect(dataset.exportCsv(path)).rejects.toMatchObject({
      name: "InvalidArgumentError",
      field: "items[1].state",
    });
    expect(await readFile(path, "utf8")).toBe("previous content\n");
    expect((await readdir(directory)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it('CSV writes U+FFFD with { loneSurrogates: "replace" }', async () => {
    const path = join(directory, "replaced.csv");
    const dataset = new TrajectoryDataset();
    dataset.capture({ state: broken, action: "ok", reward: 0 });
    await dataset.exportCsv(path, { loneSurrogates: "replace" });
    const back = await TrajectoryDataset.fromCsv(path);
    expect(back.items[0]?.state).toBe("emoji cut in half: \uFFFD");
    await expect(dataset.exportCsv(path, { loneSurrogates: "keep" } as never)).rejects.toMatchObject({
      field: "options.loneSurrogates",
    });
  });
});
