import type { JsonValue, TrajectoryItem } from "@orbiter/types";
import { hasNegativeZero, isNegativeZero } from "./negative-zero.js";

/**
 * JSON text of numbers and items, exact for every value a trajectory item can hold.
 *
 * `JSON.stringify` is used for strings (it escapes lone surrogates as `\udXXX`, so the text is well-formed
 * Unicode and reads back identically) but not for numbers, because it prints `-0` as `0`. JavaScript's
 * shortest round-trip number formatting covers the rest (`5e-324`, `1.7976931348623157e+308`).
 */

/** JSON text of a finite number; `-0` stays `-0`. */
export function numberToJson(value: number): string {
  return isNegativeZero(value) ? "-0" : String(value);
}

/** JSON text of a JSON value that keeps the sign of `-0` (slower than `JSON.stringify`). */
export function jsonValueToText(value: JsonValue): string {
  if (typeof value === "number") return numberToJson(value);
  if (typeof value !== "object" || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = "[";
    for (let index = 0; index < value.length; index++) {
      if (index > 0) out += ",";
      out += jsonValueToText(value[index] as JsonValue);
    }
    return out + "]";
  }
  let out = "{";
  let first = true;
  for (const key of Object.keys(value)) {
    out += (first ? "" : ",") + JSON.stringify(key) + ":" + jsonValueToText(value[key] as JsonValue);
    first = false;
  }
  return out + "}";
}

/** JSON text of the metadata of a validated item. */
export function metadataToJson(item: TrajectoryItem): string {
  return hasNegativeZero(item) ? jsonValueToText(item.metadata) : JSON.stringify(item.metadata);
}

/**
 * One validated item as a single line of JSON (no newline), keys in schema order. `JSON.parse` of the result
 * followed by validation gives back an item deep-equal to this one, `-0` and lone surrogates included.
 *
 * Stored items are built by the validator with their keys in schema order and no `undefined` values, so a
 * native `JSON.stringify` writes exactly this text, except for `-0`: items holding one take the field-by-field
 * path.
 */
export function itemToJson(item: TrajectoryItem): string {
  return hasNegativeZero(item) ? itemToJsonPreservingSign(item) : JSON.stringify(item);
}

/** {@link itemToJson}, field by field, keeping the sign of `-0` everywhere. */
export function itemToJsonPreservingSign(item: TrajectoryItem): string {
  let out =
    '{"id":' +
    JSON.stringify(item.id) +
    ',"timestamp":' +
    numberToJson(item.timestamp) +
    ',"state":' +
    JSON.stringify(item.state) +
    ',"action":' +
    JSON.stringify(item.action) +
    ',"reward":' +
    numberToJson(item.reward) +
    ',"metadata":' +
    metadataToJson(item);
  if (item.taskId !== undefined) out += ',"taskId":' + JSON.stringify(item.taskId);
  if (item.agentId !== undefined) out += ',"agentId":' + JSON.stringify(item.agentId);
  if (item.episodeId !== undefined) out += ',"episodeId":' + JSON.stringify(item.episodeId);
  if (item.step !== undefined) out += ',"step":' + numberToJson(item.step);
  if (item.status !== undefined) out += ',"status":' + JSON.stringify(item.status);
  if (item.messages !== undefined) out += ',"messages":' + JSON.stringify(item.messages);
  return out + "}";
}
