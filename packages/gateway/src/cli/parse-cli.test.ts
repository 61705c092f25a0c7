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
});
