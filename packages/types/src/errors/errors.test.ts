import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseWith } from "../schemas/parse-with.js";
import {
  AbortedError,
  CheckpointError,
  InvalidArgumentError,
  InvalidStateError,
  PhaseError,
  ValidationFailedError,
} from "./error-kinds.js";
import { OrbiterError } from "./orbiter-error.js";

describe("OrbiterError", () => {
  it("brands every subclass so isInstance works without instanceof", () => {
    const error = new InvalidArgumentError("bad", { field: "reward" });
    expect(error.code).toBe("ORBITER_INVALID_ARGUMENT");
    expect(error.name).toBe("InvalidArgumentError");
    expect(OrbiterError.isInstance(error)).toBe(true);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect(InvalidStateError.isInstance(error)).toBe(false);
    expect(OrbiterError.isInstance(new Error("plain"))).toBe(false);
    expect(OrbiterError.isInstance(null)).toBe(false);
    expect(OrbiterError.isInstance("ORBITER_INVALID_ARGUMENT")).toBe(false);
  });

  it("recognises an error built by another copy of the package (same Symbol.for brand)", () => {
    const foreign = Object.assign(new Error("from a duplicate install"), {
      [Symbol.for("orbiter.error")]: true,
      [Symbol.for("orbiter.error.InvalidArgumentError")]: true,
    });
    expect(OrbiterError.isInstance(foreign)).toBe(true);
    expect(InvalidArgumentError.isInstance(foreign)).toBe(true);
  });

  it("gives each failure kind its own stable code", () => {
    const codes = [
      new InvalidStateError("x").code,
      new ValidationFailedError("x", []).code,
      new PhaseError("training", "x").code,
      new CheckpointError("x").code,
      new AbortedError().code,
    ];
    expect(new Set(codes).size).toBe(codes.length);
    expect(new PhaseError("training", "boom", { cause: new Error("inner") }).cause).toBeInstanceOf(Error);
  });
});

describe("parseWith", () => {
  const schema = z.strictObject({
    epochs: z.number().int().positive(),
    nested: z.object({ rate: z.number() }),
  });

  it("names the offending field and keeps the ZodError as cause", () => {
    let caught: unknown;
    try {
      parseWith(schema, { epochs: 1, nested: { rate: "fast" } }, { what: "TrainConfig", path: "config" });
    } catch (error) {
      caught = error;
    }
    expect(InvalidArgumentError.isInstance(caught)).toBe(true);
    const error = caught as InvalidArgumentError;
    expect(error.field).toBe("config.nested.rate");
    expect(error.message).toContain('"config.nested.rate"');
    expect(error.cause).toBeInstanceOf(z.ZodError);
  });

  it("names an unknown key, and the line when given", () => {
    expect(() =>
      parseWith(schema, { epochs: 1, nested: { rate: 1 }, epohcs: 2 }, { what: "x", line: 7 }),
    ).toThrow(expect.objectContaining({ field: "epohcs", line: 7 }));
  });

  it("joins a path prefix with array indices without a stray dot", () => {
    const list = z.array(z.strictObject({ role: z.enum(["user", "assistant"]) }));
    expect(() =>
      parseWith(list, [{ role: "user" }, { role: "robot" }], { what: "messages", path: "messages" }),
    ).toThrow(expect.objectContaining({ field: "messages[1].role" }));
  });

  it("returns the parsed value on success", () => {
    expect(parseWith(schema, { epochs: 2, nested: { rate: 0.5 } }, { what: "x" })).toEqual({
      epochs: 2,
      nested: { rate: 0.5 },
    });
  });
});
