import { InvalidArgumentError, JsonObject, parseWith, type Sample } from "@orbiter/types";
import { z } from "zod";

const OnRewardError = z.enum(["throw", "zero"]);

/** The body of `POST /score`: verl's reward-function arguments, plus an optional failure policy. */
export const ScoreRequest = z.looseObject({
  data_source: z.string(),
  solution_str: z.string(),
  ground_truth: z.string(),
  extra_info: JsonObject.nullable().optional(),
  /** What a failing reward does for this request. @default the server's `onRewardError` */
  on_reward_error: OnRewardError.optional(),
});
/** The body of `POST /score`. */
export type ScoreRequest = z.infer<typeof ScoreRequest>;

/** The body of `POST /score/batch`: verl's batch reward-function arguments (parallel lists). */
export const ScoreBatchRequest = z
  .looseObject({
    data_sources: z.array(z.string()),
    solution_strs: z.array(z.string()),
    ground_truths: z.array(z.string()),
    extra_infos: z.array(JsonObject.nullable()).nullable().optional(),
    on_reward_error: OnRewardError.optional(),
  })
  .superRefine((body, context) => {
    const count = body.solution_strs.length;
    const lists: Array<[string, number | undefined]> = [
      ["data_sources", body.data_sources.length],
      ["ground_truths", body.ground_truths.length],
      ["extra_infos", body.extra_infos?.length],
    ];
    for (const [name, length] of lists) {
      if (length !== undefined && length !== count) {
        context.addIssue({
          code: "custom",
          path: [name],
          message: `has ${length} entries for ${count} solution_strs`,
        });
      }
    }
  });
/** The body of `POST /score/batch`. */
export type ScoreBatchRequest = z.infer<typeof ScoreBatchRequest>;

/** Parses a request body, naming the bad field (`ground_truth`, `extra_infos[2]`). */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new InvalidArgumentError(`Invalid ${what}: the body must be a JSON object`, { field: "" });
  }
  return parseWith(schema, body, { what });
}

/**
 * The sample a TypeScript reward function sees for one verl call: `input` and `id` come from
 * `extra_info.input` / `extra_info.sample_id` (which the verl rows built here carry), `output` is the ground
 * truth, and `metadata` holds `data_source` and the whole `extra_info`.
 */
export function sampleFromCall(
  dataSource: string,
  groundTruth: string,
  extraInfo: JsonObject | null | undefined,
): Sample {
  const info = extraInfo ?? {};
  const input = typeof info.input === "string" ? info.input : "";
  const id =
    typeof info.sample_id === "string" && info.sample_id !== ""
      ? info.sample_id
      : `${dataSource}:${typeof info.index === "number" ? info.index : "?"}`;
  return { id, input, output: groundTruth, metadata: { data_source: dataSource, extra_info: info } };
}
