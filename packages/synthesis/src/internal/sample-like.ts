import type { JsonObject } from "@orbiter/types";

/** The part of a sample the standalone functions read: texts, and optionally id, score and metadata. */
export interface SampleLike {
  id?: string | undefined;
  input: string;
  output: string;
  // `| undefined` so that zod-parsed samples (whose optional fields may be present but undefined) are accepted
  // under `exactOptionalPropertyTypes`.
  score?: number | undefined;
  metadata?: JsonObject | undefined;
}
