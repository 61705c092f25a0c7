import { fieldOf } from "@orbiter/test-support";
import { InvalidArgumentError } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { exportVerlJob } from "../job/export-verl-job.js";
import {
  openAiChatRowsFromSamples,
  trlPromptCompletionRowsFromSamples,
  verlRowsFromSamples,
} from "./sample-rows.js";

const good = { id: "g", input: "1+1=", output: "2", metadata: {} };

describe("rows from samples", () => {
  it("name the field of a sample that is not one, in every converter", () => {
    const cases: Array<[unknown[], string]> = [
      [[good, { input: 1, output: "x" }], "samples[1].input"],
      [[{ input: "q" }], "samples[0].output"],
      [[good, null], "samples[1]"],
      [[{ ...good, id: 7 }], "samples[0].id"],
    ];
    for (const [samples, field] of cases) {
      const list = samples as never;
      expect(
        fieldOf(() => verlRowsFromSamples(list, { dataSource: "d" })),
        field,
      ).toBe(field);
      expect(
        fieldOf(() => trlPromptCompletionRowsFromSamples(list)),
        field,
      ).toBe(field);
      expect(
        fieldOf(() => openAiChatRowsFromSamples(list)),
        field,
      ).toBe(field);
    }
  });

  it("name a bad sample under the caller's path, in the field and the message", () => {
    const cases: Array<[unknown, string, string]> = [
      [[good, { input: 1, output: "x" }], "train[1].input", "train[1].input must be a string"],
      [[good, null], "train[1]", "train[1] must be a sample"],
      [{ notSamples: true }, "train", "Expected an array of samples"],
    ];
    for (const [samples, field, message] of cases) {
      const run = () => verlRowsFromSamples(samples as never, { dataSource: "d", path: "train" });
      expect(fieldOf(run), field).toBe(field);
      expect(run, field).toThrow(message);
    }
  });

  it("name the option a job's bad sample came from", async () => {
    const error = await exportVerlJob("/tmp/never-written-job", {
      train: [good, good, { input: 1, output: "x" } as never, good],
      config: { algorithm: "grpo", batchSize: 2, groupSize: 2 },
      model: "m",
      gpusPerNode: 4,
    }).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error) && error.field).toBe("train[2].input");
    expect((error as Error).message).toBe("train[2].input must be a string");
    const badVal = await exportVerlJob("/tmp/never-written-job", {
      train: [good, good],
      val: [good, { input: "q" } as never],
      config: { algorithm: "grpo", batchSize: 2, groupSize: 2 },
      model: "m",
      gpusPerNode: 4,
    }).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(badVal) && badVal.field).toBe("val[1].output");
  });
});
