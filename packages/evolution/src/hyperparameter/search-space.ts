import { z } from "zod";

const Scale = z.enum(["linear", "log"]).default("linear");

/** A floating-point parameter in [min, max], searched on a linear or logarithmic scale. */
const FloatParameter = z.strictObject({
  type: z.literal("float"),
  /** Lower bound (> 0 on a log scale). */
  min: z.number(),
  /** Upper bound (> min). */
  max: z.number(),
  /** `log` searches orders of magnitude evenly (learning rates). @default "linear" */
  scale: Scale,
});

/** An integer parameter in [min, max]. */
const IntParameter = z.strictObject({
  type: z.literal("int"),
  /** Lower bound. */
  min: z.number().int(),
  /** Upper bound (>= min). */
  max: z.number().int(),
  /** `log` searches orders of magnitude evenly (batch sizes). @default "linear" */
  scale: Scale,
});

/** A parameter taking one of a few values. */
const CategoricalParameter = z.strictObject({
  type: z.literal("categorical"),
  /** The possible values (at least one). */
  values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
});

/**
 * One dimension of a {@link SearchSpace}: `{ type: "float" | "int", min, max, scale? }` or
 * `{ type: "categorical", values }`.
 */
export const ParameterSpec = z
  .discriminatedUnion("type", [FloatParameter, IntParameter, CategoricalParameter])
  .superRefine((spec, context) => {
    if (spec.type === "categorical") return;
    if (!Number.isFinite(spec.min) || !Number.isFinite(spec.max)) {
      context.addIssue({ code: "custom", path: ["min"], message: "bounds must be finite" });
    } else if (spec.type === "float" ? spec.max <= spec.min : spec.max < spec.min) {
      context.addIssue({ code: "custom", path: ["max"], message: `must be greater than min (${spec.min})` });
    } else if (spec.scale === "log" && spec.min <= 0) {
      context.addIssue({ code: "custom", path: ["min"], message: "must be > 0 on a log scale" });
    }
  });

/** A parsed parameter spec. */
export type ParameterSpec = z.output<typeof ParameterSpec>;
/** A parameter spec as written: `scale` may be omitted, and literal (readonly) arrays are accepted. */
export type ParameterSpecInput =
  | {
      readonly type: "float" | "int";
      readonly min: number;
      readonly max: number;
      readonly scale?: "linear" | "log" | undefined;
    }
  | { readonly type: "categorical"; readonly values: ReadonlyArray<string | number | boolean> };

/** Named parameters to search: `{ learningRate: { type: "float", min: 1e-5, max: 1e-2, scale: "log" }, ... }`. */
export type SearchSpace = Readonly<Record<string, ParameterSpecInput>>;

/** The schema of a whole search space (at least one parameter). */
export const SearchSpace = z
  .record(z.string(), ParameterSpec)
  .refine((space) => Object.keys(space).length > 0, { message: "must have at least one parameter" });

/** The value type of one parameter spec: the union of a categorical's values, otherwise `number`. */
export type ParameterValue<P> = P extends { type: "categorical"; values: ReadonlyArray<infer V> }
  ? V
  : number;

/** A point of a search space: one value per parameter. */
export type Params<S extends SearchSpace> = { -readonly [K in keyof S]: ParameterValue<S[K]> };
