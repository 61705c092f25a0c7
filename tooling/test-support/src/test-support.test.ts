import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { InvalidArgumentError } from "@orbiter/types";
import { describe, expect, it } from "vitest";
import { captureError, fieldOf, openAiClient, thrownBy } from "./index.js";

describe("thrownBy and captureError", () => {
  it("return what was thrown or rejected, and fail when nothing was", async () => {
    const error = new RangeError("boom");
    expect(
      thrownBy(() => {
        throw error;
      }),
    ).toBe(error);
    expect(() => thrownBy(() => 1)).toThrow("expected an exception");
    expect(await captureError(Promise.reject(error))).toBe(error);
    await expect(captureError(Promise.resolve(1))).rejects.toThrow("expected a rejection");
  });
});

describe("fieldOf", () => {
  it("returns the field of an InvalidArgumentError, rethrows any other error, and fails when nothing is thrown", () => {
    expect(
      fieldOf(() => {
        throw new InvalidArgumentError("bad", { field: "options.size" });
      }),
    ).toBe("options.size");
    const other = new TypeError("not ours");
    expect(() =>
      fieldOf(() => {
        throw other;
      }),
    ).toThrow(other);
    expect(() => fieldOf(() => 1)).toThrow("expected an InvalidArgumentError");
  });
});

describe("openAiClient", () => {
  it("sends the bearer key to the base URL and does not retry a failed call", async () => {
    const seen: Array<{ url: string | undefined; authorization: string | undefined }> = [];
    const server = createServer((request, response) => {
      seen.push({ url: request.url, authorization: request.headers.authorization });
      response.writeHead(503, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "down" } }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = openAiClient(`http://127.0.0.1:${port}/rollouts/r-1/v1`, "sk-test");
      const error = await captureError(
        client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] }),
      );
      expect((error as { status?: number }).status).toBe(503);
      expect(seen).toEqual([{ url: "/rollouts/r-1/v1/chat/completions", authorization: "Bearer sk-test" }]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
