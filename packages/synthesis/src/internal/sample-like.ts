import type { JsonObject } from "@orbiter/types";

/** The part of a sample the standalone functions read: texts, and optionally id, score and metadata. */
export interface SampleLike {
  id?: string;
  input: string;
  output: string;
  score?: number;
  metadata?: JsonObject;
}
