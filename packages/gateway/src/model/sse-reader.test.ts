import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readServerSentData } from "./sse-reader.js";

async function* pieces(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let start = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= start || cut >= bytes.length) continue;
    yield bytes.subarray(start, cut);
    start = cut;
  }
  yield bytes.subarray(start);
}

async function collect(stream: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const data of stream) out.push(data);
  return out;
}

describe("readServerSentData", () => {
  it("yields each event's data whatever the chunk boundaries and line endings (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: "grapheme", minLength: 1 }).filter((s) => !/[\r\n]/.test(s)),
          { minLength: 1, maxLength: 8 },
        ),
        fc.constantFrom("\n", "\r\n", "\r"),
        fc.array(fc.nat(400)),
        async (events, newline, cuts) => {
          const text = events
            .map((data) => `: comment${newline}event: message${newline}data: ${data}${newline}${newline}`)
            .join("");
          const bytes = new TextEncoder().encode(text);
          expect(await collect(readServerSentData(pieces(bytes, cuts)))).toEqual(events);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("keeps a multi-line event whole when a CRLF is split between chunks", async () => {
    const bytes = new TextEncoder().encode("data: x\r\ndata: y\r\n\r\n");
    expect(await collect(readServerSentData(pieces(bytes, [8])))).toEqual(["x\ny"]);
  });

  it("joins multi-line data and ends a last event that has no blank line after it", async () => {
    const bytes = new TextEncoder().encode('data: {"a":\ndata: 1}\n\ndata:[DONE]');
    expect(await collect(readServerSentData(pieces(bytes, [3, 9])))).toEqual(['{"a":\n1}', "[DONE]"]);
  });
});
