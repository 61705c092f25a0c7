import { z } from "zod";

/** Any JSON value: null, boolean, finite number, string, array or object of JSON values. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object, the shape of every `metadata` field. */
export type JsonObject = { [key: string]: JsonValue };

/** Schema of a {@link JsonValue}: numbers must be finite, so the value survives a JSON round trip. */
export const JsonValue: z.ZodType<JsonValue> = z.json() as z.ZodType<JsonValue>;

/** Schema of a {@link JsonObject}. */
export const JsonObject: z.ZodType<JsonObject> = z.record(z.string(), JsonValue);
