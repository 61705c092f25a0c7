import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import { messageOf } from "@orbiter/types";
import { HttpProblem } from "./openai-error.js";

const DECOMPRESS = {
  gzip: gunzipSync,
  "x-gzip": gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
} as const;

/** True when the body holds nothing but JSON whitespace (checked without copying it into a string). */
function isBlank(bytes: Buffer): boolean {
  for (const byte of bytes) {
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return false;
  }
  return true;
}

/**
 * The JSON value of a request body: undefined for an empty one; decompressed first when `Content-Encoding` is
 * gzip, deflate or br (OTLP exporters may compress), never to more than `limitBytes`. A 415 for protobuf or an
 * unknown encoding, a 413 past the limit, a 400 for anything that is not JSON.
 */
export function readJsonBody(
  raw: Buffer,
  contentType: string | undefined,
  contentEncoding: string | undefined,
  limitBytes: number,
): unknown {
  if (/protobuf/i.test(contentType ?? "")) {
    throw new HttpProblem(
      415,
      "Only JSON bodies are accepted (OTLP: use the http/json protocol)",
      "invalid_request_error",
    );
  }
  let bytes = raw;
  const encoding = (contentEncoding ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "") {
    const decompress = DECOMPRESS[encoding as keyof typeof DECOMPRESS];
    if (!decompress) {
      throw new HttpProblem(415, `Unsupported content encoding "${encoding}"`, "invalid_request_error");
    }
    try {
      bytes = decompress(raw, { maxOutputLength: limitBytes });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        throw new HttpProblem(
          413,
          "The decompressed request body is larger than the gateway accepts",
          "invalid_request_error",
          null,
          "body_too_large",
        );
      }
      throw new HttpProblem(400, `The request body is not valid ${encoding} data`, "invalid_request_error");
    }
  }
  if (isBlank(bytes)) return undefined;
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new HttpProblem(
      400,
      `The request body is not valid JSON: ${messageOf(error)}`,
      "invalid_request_error",
    );
  }
}
