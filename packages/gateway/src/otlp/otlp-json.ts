/**
 * Reading OTLP/HTTP trace requests in the JSON encoding (`ExportTraceServiceRequest`): resource spans → scope
 * spans → spans, with attributes as `{ key, value: AnyValue }` lists. Ids are hex strings in OTLP/JSON; base64
 * (what a protobuf-to-JSON mapping would give) is accepted too.
 */

/** An attribute value, decoded from an OTLP `AnyValue`. */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | AttributeValue[]
  | { [key: string]: AttributeValue };

/** One span with its attributes decoded and the resource's attributes under them. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  startTimeMs: number;
  endTimeMs: number;
  /** The span's attributes over its resource's (the span's win). */
  attributes: Record<string, AttributeValue>;
  /** 2 is ERROR in OTLP. */
  statusCode: number;
  statusMessage: string | undefined;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Decodes an OTLP `AnyValue`. */
export function decodeAnyValue(value: unknown): AttributeValue {
  if (!isObject(value)) return null;
  if ("stringValue" in value) return String(value.stringValue);
  if ("boolValue" in value) return Boolean(value.boolValue);
  if ("intValue" in value) return Number(value.intValue);
  if ("doubleValue" in value) return Number(value.doubleValue);
  if (isObject(value.arrayValue)) {
    const values = Array.isArray(value.arrayValue.values) ? value.arrayValue.values : [];
    return values.map(decodeAnyValue);
  }
  if (isObject(value.kvlistValue)) return decodeAttributes(value.kvlistValue.values);
  if ("bytesValue" in value) return String(value.bytesValue);
  return null;
}

/** Decodes an OTLP `KeyValue` list. */
export function decodeAttributes(list: unknown): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  if (!Array.isArray(list)) return out;
  for (const entry of list) {
    if (isObject(entry) && typeof entry.key === "string") out[entry.key] = decodeAnyValue(entry.value);
  }
  return out;
}

/** A span or trace id as lower-case hex (base64 input converted). */
export function hexId(value: unknown): string {
  if (typeof value !== "string" || value === "") return "";
  if (/^[0-9a-fA-F]+$/.test(value) && (value.length === 32 || value.length === 16))
    return value.toLowerCase();
  return Buffer.from(value, "base64").toString("hex");
}

function nanosToMs(value: unknown): number {
  if (typeof value === "number") return value / 1e6;
  if (typeof value === "string" && /^\d+$/.test(value)) return Number(BigInt(value) / 1000n) / 1000;
  return 0;
}

/**
 * The spans of an OTLP/JSON trace export. Throws a `TypeError` when the body is not an object with a
 * `resourceSpans` array.
 */
export function readOtlpSpans(body: unknown): OtlpSpan[] {
  if (!isObject(body) || !Array.isArray(body.resourceSpans)) {
    throw new TypeError("expected an OTLP ExportTraceServiceRequest: an object with a resourceSpans array");
  }
  const spans: OtlpSpan[] = [];
  for (const resourceSpans of body.resourceSpans) {
    if (!isObject(resourceSpans)) continue;
    const resource = isObject(resourceSpans.resource)
      ? decodeAttributes(resourceSpans.resource.attributes)
      : {};
    const scopes = Array.isArray(resourceSpans.scopeSpans) ? resourceSpans.scopeSpans : [];
    for (const scope of scopes) {
      if (!isObject(scope) || !Array.isArray(scope.spans)) continue;
      for (const span of scope.spans) {
        if (!isObject(span)) continue;
        const status = isObject(span.status) ? span.status : {};
        const parent = hexId(span.parentSpanId);
        spans.push({
          traceId: hexId(span.traceId),
          spanId: hexId(span.spanId),
          parentSpanId: parent === "" ? undefined : parent,
          name: typeof span.name === "string" ? span.name : "",
          startTimeMs: nanosToMs(span.startTimeUnixNano),
          endTimeMs: nanosToMs(span.endTimeUnixNano),
          attributes: { ...resource, ...decodeAttributes(span.attributes) },
          statusCode: typeof status.code === "number" ? status.code : 0,
          statusMessage:
            typeof status.message === "string" && status.message !== "" ? status.message : undefined,
        });
      }
    }
  }
  return spans;
}
