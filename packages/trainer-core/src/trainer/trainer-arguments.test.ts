import { thrownBy } from "@orbiter/test-support";
import { InvalidArgumentError } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { LinearRegressionTrainer, linePoints } from "../__fixtures__/linear-regression-trainer.js";

describe("Trainer arguments of the wrong type", () => {
  it("refuses callbacks, signal and metricsLogPath of the wrong type, naming the option", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ callbacks: { onStep: () => {} } }, "callbacks"],
      [{ callbacks: [null] }, "callbacks[0]"],
      [{ signal: { aborted: false } }, "signal"],
      [{ metricsLogPath: "" }, "metricsLogPath"],
      [{ metricsLogPath: 42 }, "metricsLogPath"],
    ];
    for (const [options, field] of cases) {
      const error = thrownBy(() => new LinearRegressionTrainer({ dataset: linePoints(4), ...options }));
      expect(InvalidArgumentError.isInstance(error), `${JSON.stringify(options)}: ${String(error)}`).toBe(
        true,
      );
      expect((error as InvalidArgumentError).field).toBe(field);
    }
  });

  it("refuses a listener for an event the trainer never sends, and a listener that is not a function", () => {
    const trainer = new LinearRegressionTrainer({ dataset: linePoints(4) });
    const unknown = thrownBy(() => trainer.on("stepp" as "step", () => {}));
    expect(InvalidArgumentError.isInstance(unknown) && unknown.field).toBe("event");
    expect(String((unknown as Error).message)).toContain("stateChange");
    const notFunction = thrownBy(() => trainer.on("step", "log" as never));
    expect(InvalidArgumentError.isInstance(notFunction) && notFunction.field).toBe("listener");
  });
});
