import { describe, expect, it } from "vitest";
import { parseCli } from "./run-cli.js";

const required = ["--upstream", "http://127.0.0.1:9/v1", "--out", "calls.jsonl"];

describe("parseCli", () => {
  it("takes --durability written, synced or none, and leaves the default to the gateway", () => {
    expect(parseCli(required, {})?.durability).toBeUndefined();
    for (const level of ["written", "synced", "none"] as const) {
      expect(parseCli([...required, "--durability", level], {})?.durability).toBe(level);
    }
  });

  it("refuses another durability, naming the flag and the levels", () => {
    expect(() => parseCli([...required, "--durability", "fsync"], {})).toThrow(
      '--durability must be written, synced or none, got "fsync"',
    );
  });

  it("names the flag of a value the gateway refuses, as a usage error", () => {
    const cases: Array<[string[], RegExp]> = [
      [[...required, "--port", "70000"], /^--port: /],
      [[...required, "--upstream-timeout", "0"], /^--upstream-timeout: /],
      [["--upstream", "not a url", "--out", "calls.jsonl"], /^--upstream: /],
      [[...required, "--body-limit", "0"], /^--body-limit: /],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseCli(argv, {}), argv.join(" ")).toThrow(message);
    }
    expect(parseCli([...required, "--port", "65535"], {})?.port).toBe(65535);
  });
});
