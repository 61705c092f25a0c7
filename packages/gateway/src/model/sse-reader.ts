/**
 * Reads a server-sent-events body and yields the `data` of each event (multi-line data joined with `\n`).
 * Comments, `event:`, `id:` and `retry:` fields are skipped: OpenAI-compatible streams carry everything in
 * `data`.
 */
export async function* readServerSentData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  const takeLine = (line: string): string | undefined => {
    if (line === "") {
      if (data.length === 0) return undefined;
      const out = data.join("\n");
      data = [];
      return out;
    }
    if (line.startsWith("data:")) {
      data.push(line.slice(line.charCodeAt(5) === 0x20 ? 6 : 5));
    }
    return undefined;
  };
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let newline = buffer.search(/\r\n|\r|\n/);
    // A "\r" at the very end may be the first half of a "\r\n" split across chunks: wait for the next one.
    while (newline >= 0 && !(newline === buffer.length - 1 && buffer.endsWith("\r"))) {
      const line = buffer.slice(0, newline);
      const width = buffer.startsWith("\r\n", newline) ? 2 : 1;
      buffer = buffer.slice(newline + width);
      const event = takeLine(line);
      if (event !== undefined) yield event;
      newline = buffer.search(/\r\n|\r|\n/);
    }
  }
  buffer += decoder.decode();
  for (const line of buffer === "" ? [] : buffer.split(/\r\n|\r|\n/)) {
    const event = takeLine(line);
    if (event !== undefined) yield event;
  }
  const last = takeLine("");
  if (last !== undefined) yield last;
}
