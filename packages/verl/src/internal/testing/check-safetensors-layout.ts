/**
 * An independent check of the safetensors layout (written from the format description, sharing no code with
 * the reader): u64 LE header size, a UTF-8 JSON object header, `__metadata__` of strings, each tensor with a
 * known dtype, integer shape and `[begin, end]` offsets that match the shape and tile the data section.
 * Returns the problems found (empty when the file is valid).
 */
export function checkSafetensorsLayout(bytes: Uint8Array): string[] {
  const problems: string[] = [];
  if (bytes.length < 8) return ["too short"];
  let size = 0;
  for (let i = 7; i >= 0; i--) size = size * 256 + bytes[i]!;
  if (8 + size > bytes.length) return ["header size beyond the file"];
  const headerText = Buffer.from(bytes.subarray(8, 8 + size)).toString("utf8");
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(headerText);
  } catch {
    return ["header is not JSON"];
  }
  if (!headerText.startsWith("{")) problems.push("header must start with {");
  const widths: Record<string, number> = {
    F64: 8,
    F32: 4,
    F16: 2,
    BF16: 2,
    I64: 8,
    I32: 4,
    I16: 2,
    I8: 1,
    U8: 1,
    BOOL: 1,
  };
  const ranges: Array<[number, number]> = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      for (const [key, text] of Object.entries(value as Record<string, unknown>)) {
        if (typeof text !== "string") problems.push(`metadata ${key} is not a string`);
      }
      continue;
    }
    const info = value as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const width = widths[info.dtype];
    if (width === undefined) {
      problems.push(`${name}: unknown dtype`);
      continue;
    }
    const elements = info.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = info.data_offsets;
    if (end - begin !== elements * width) problems.push(`${name}: offsets do not match the shape`);
    ranges.push([begin, end]);
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let expected = 0;
  for (const [begin, end] of ranges) {
    if (begin !== expected) problems.push(`gap or overlap at ${begin}`);
    expected = end;
  }
  if (expected !== bytes.length - 8 - size) problems.push("data section not fully covered");
  return problems;
}
