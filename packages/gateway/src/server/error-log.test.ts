import { describe, expect, it } from "vitest";
import { startGateway } from "../index.js";

describe("the gateway's log of failed requests", () => {
  it("says an upstream that cannot be reached is an upstream error, not an internal one", async () => {
    const logs: string[] = [];
    const gateway = await startGateway({
      upstream: { baseURL: "http://127.0.0.1:9/v1", timeoutMs: 2_000 },
      log: (line) => logs.push(line),
    });
    try {
      const response = await fetch(`${gateway.url}/v1/models`);
      expect(response.status).toBe(502);
      expect(
        logs.some((line) => /^upstream error: upstream unreachable/.test(line)),
        logs.join("\n"),
      ).toBe(true);
      expect(logs.filter((line) => line.startsWith("internal error"))).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});
