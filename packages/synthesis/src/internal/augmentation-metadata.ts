import type { JsonObject, JsonValue } from "@orbiter/types";

/** Metadata of an augmented copy: the list in `augmentation` gains `name`, and `augmentedFrom` names the source. */
export function augmentedMetadata(
  metadata: JsonObject | undefined,
  name: string,
  sourceId: string | undefined,
  extra: JsonObject = {},
): JsonObject {
  const previous = metadata?.augmentation;
  const list: JsonValue[] = Array.isArray(previous)
    ? [...previous]
    : previous === undefined || previous === null
      ? []
      : [previous];
  list.push(name);
  const out: JsonObject = { ...metadata, ...extra, augmentation: list };
  if (sourceId !== undefined && out.augmentedFrom === undefined) out.augmentedFrom = sourceId;
  return out;
}
