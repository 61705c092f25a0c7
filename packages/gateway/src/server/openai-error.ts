/** The `type` of an OpenAI-style error body. */
export type OpenAiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "conflict_error"
  | "upstream_error"
  | "server_error";

/** An error as OpenAI-compatible APIs send it: `{ error: { message, type, param, code } }`. */
export interface OpenAiErrorBody {
  error: { message: string; type: OpenAiErrorType; param: string | null; code: string | null };
}

/** Builds an OpenAI-style error body. */
export function openAiError(
  message: string,
  type: OpenAiErrorType,
  param: string | null = null,
  code: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}

/** A failure to answer with an HTTP status and an OpenAI-style body. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly body: OpenAiErrorBody;

  constructor(
    status: number,
    message: string,
    type: OpenAiErrorType,
    param: string | null = null,
    code: string | null = null,
  ) {
    super(message);
    this.status = status;
    this.body = openAiError(message, type, param, code);
  }
}
