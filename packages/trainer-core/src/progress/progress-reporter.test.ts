import { describe, expect, it } from "vitest";
import { LinearRegressionTrainer, linePoints } from "../__fixtures__/linear-regression-trainer.js";
import { ProgressReporter } from "./progress-reporter.js";

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  return {
    chunks,
    isTTY,
    columns: 100,
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
    get text() {
      return chunks.join("");
    },
  };
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((name) => name === "Timeout").length;
}

describe("ProgressReporter", () => {
  it("prints plain lines at each 10% when the stream is not a TTY", () => {
    const stream = fakeStream(false);
    const progress = new ProgressReporter({ stream, label: "demo" });
    expect(progress.isTTY).toBe(false);
    progress.start(100);
    for (let value = 1; value <= 100; value++)
      progress.update(value, { loss: 1 / value, note: "x", skip: undefined });
    progress.stop();
    const lines = stream.text.trimEnd().split("\n");
    expect(lines[0]).toBe("demo: started (100)");
    expect(lines[1]).toBe("demo: 1/100 (1%) loss=1 note=x");
    expect(lines.slice(2, -1).map((line) => line.split(" ")[1])).toEqual([
      "10/100",
      "20/100",
      "30/100",
      "40/100",
      "50/100",
      "60/100",
      "70/100",
      "80/100",
      "90/100",
      "100/100",
    ]);
    expect(lines[3]).toBe("demo: 20/100 (20%) loss=0.0500 note=x");
    expect(lines.at(-1)).toBe("demo: done (100/100)");
    expect(progress.active).toBe(false);
  });

  it("prints the completed line once, however often the total is reported", () => {
    const stream = fakeStream(false);
    const progress = new ProgressReporter({ stream, label: "demo" });
    progress.start(4);
    for (const value of [2, 4, 4, 5, 4]) progress.update(value);
    progress.stop();
    expect(stream.text.trimEnd().split("\n")).toEqual([
      "demo: started (4)",
      "demo: 2/4 (50%)",
      "demo: 4/4 (100%)",
      "demo: done (4/4)",
    ]);
  });

  it("prints every n-th update when the total is unknown, and formats tiny numbers in exponent form", () => {
    const stream = fakeStream(false);
    const progress = new ProgressReporter({ stream, plainEvery: 3 });
    for (let value = 1; value <= 7; value++) progress.increment(1, { lr: 1e-5 });
    progress.log("a note");
    progress.stop();
    expect(stream.text.split("\n")).toEqual([
      "train: started",
      "train: 3 lr=1.000e-5",
      "train: 6 lr=1.000e-5",
      "a note",
      "train: done (7)",
      "",
    ]);
  });

  it("draws a cli-progress bar on a TTY and leaves no timer running after stop()", () => {
    const stream = fakeStream(true);
    const before = timeouts();
    const progress = new ProgressReporter({ stream, label: "bar" });
    expect(progress.isTTY).toBe(true);
    progress.start(10);
    for (let value = 1; value <= 10; value++) progress.update(value, { loss: 0.5 });
    progress.log("halfway note");
    progress.stop();
    expect(stream.text).toContain("bar [");
    expect(stream.text).toContain("100% | 10/10");
    expect(stream.text).toContain("loss=0.5000");
    expect(stream.text).toContain("halfway note\n");
    expect(timeouts()).toBe(before);
  });

  it("follows a trainer as callbacks: state lines, step progress and the final evaluation", async () => {
    const stream = fakeStream(false);
    const trainer = new LinearRegressionTrainer({
      dataset: linePoints(20),
      config: { batchSize: 2, epochs: 1 },
      callbacks: [new ProgressReporter({ stream, label: "fit" })],
    });
    await trainer.run();
    const lines = stream.text.trimEnd().split("\n");
    expect(lines[0]).toBe("fit: created -> validating");
    expect(lines).toContain("fit: validated -> training");
    expect(lines).toContain("fit: started (10)");
    expect(lines.filter((line) => /^fit: \d+\/10 /.test(line))).toHaveLength(10);
    expect(lines).toContain("fit: done (10/10)");
    expect(lines.some((line) => line.startsWith("fit: evaluation loss="))).toBe(true);
    expect(lines.at(-1)).toBe("fit: evaluating -> complete");
  });
});
