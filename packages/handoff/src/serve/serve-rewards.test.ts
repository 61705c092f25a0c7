import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { InvalidArgumentError, type Sample } from "@orbiter/types";
import type { RewardSpecInput } from "@orbiter/verl";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderRewardFunction } from "../job/reward-fn-script.js";
import { type RewardServer, serveRewards } from "./serve-rewards.js";

const run = promisify(execFile);

const rewards: RewardSpecInput[] = [
  { name: "exact", weight: 1, fn: (output, sample) => (output.trim() === sample.output ? 1 : 0) },
  { name: "length", weight: 0.25, fn: async (output) => -output.length / 10 },
  {
    name: "mentions_input",
    weight: 2,
    fn: (output, sample) => (sample.input === "" ? null : output.includes(sample.input) ? 1 : 0),
  },
  {
    name: "fragile",
    weight: 1,
    fn: (output) => {
      if (output.includes("boom")) throw new Error("cannot score boom");
      return 0.5;
    },
  },
];

/** What the TypeScript rewards give, computed here without any server. */
async function expected(output: string, sample: Sample): Promise<Record<string, number | null>> {
  const result: Record<string, number | null> = {};
  let score = 0;
  for (const reward of rewards) {
    const value = (await reward.fn(output, sample, {})) ?? null;
    result[reward.name] = value;
    if (value !== null) score += (reward.weight ?? 1) * value;
  }
  return { score, ...result };
}

const calls = [
  {
    data_source: "arithmetic",
    solution_str: " 7 ",
    ground_truth: "7",
    extra_info: { split: "train", index: 0, sample_id: "s0", input: "3+4=" },
  },
  {
    data_source: "arithmetic",
    solution_str: "3+4= is 8 — ünïcødé 😀",
    ground_truth: "7",
    extra_info: { split: "train", index: 1, sample_id: "s1", input: "3+4=" },
  },
  { data_source: "other", solution_str: "", ground_truth: "", extra_info: null },
];

let dir = "";
let server: RewardServer;
const apiKey = "test-key-ü";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "handoff-serve-"));
  server = await serveRewards(rewards, { apiKey, concurrency: 2, timeoutMs: 5_000 });
  await writeFile(
    join(dir, "reward_fn.py"),
    renderRewardFunction({
      rewardUrl: server.url,
      onRewardError: "throw",
      timeoutSeconds: 10,
      rewardNames: ["exact"],
    }),
  );
  await writeFile(
    join(dir, "driver.py"),
    [
      "import json, sys",
      "sys.path.insert(0, sys.argv[1])",
      "import reward_fn",
      "calls = json.loads(sys.stdin.read())",
      "out = {'single': [reward_fn.compute_score(**call) for call in calls]}",
      "out['batch'] = reward_fn.compute_score_batch([c['data_source'] for c in calls], [c['solution_str'] for c in calls],",
      "    [c['ground_truth'] for c in calls], [c['extra_info'] for c in calls])",
      "try:",
      "    reward_fn.compute_score('arithmetic', 'boom', '7', {'index': 9})",
      "    out['error'] = None",
      "except reward_fn.RewardServerError as error:",
      "    out['error'] = {'reward': error.reward, 'status': error.status, 'message': str(error)}",
      "print(json.dumps(out, ensure_ascii=False))",
    ].join("\n"),
  );
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function python(env: Record<string, string>, input: unknown): Promise<Record<string, unknown>> {
  const child = run("python3", [join(dir, "driver.py"), dir], {
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  child.child.stdin?.end(JSON.stringify(input));
  const { stdout } = await child;
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe("serveRewards with the generated reward_fn.py", () => {
  it("binds 127.0.0.1 by default", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("returns exactly what the TypeScript rewards return, per reward, single and batch, and names a failing reward", async () => {
    const out = await python({ ORBITER_REWARD_API_KEY: apiKey }, calls);
    const want = await Promise.all(
      calls.map((call) => {
        const info = call.extra_info;
        const sample: Sample = {
          id: info?.sample_id ?? `${call.data_source}:?`,
          input: info?.input ?? "",
          output: call.ground_truth,
          metadata: {},
        };
        return expected(call.solution_str, sample);
      }),
    );
    // The wire is JSON, which has no -0: compare with what JSON carries.
    const wire = JSON.parse(JSON.stringify(want));
    expect(out.single).toEqual(wire);
    expect(out.batch).toEqual(wire);
    expect(want[0]).toEqual({
      score: 1 + 0.25 * -0.3 + 2 * 0 + 0.5,
      exact: 1,
      length: -0.3,
      mentions_input: 0,
      fragile: 0.5,
    });
    expect(want[2]?.mentions_input).toBeNull();
    expect(out.error).toEqual({
      reward: "fragile",
      status: 500,
      message: 'reward server: Reward "fragile" threw: cannot score boom',
    });
  });

  it("refuses a request without the bearer key, and a malformed body naming the field", async () => {
    const out = await python({}, []).catch((error: { stderr?: string }) => error);
    expect(String((out as { stderr?: string }).stderr)).toContain("A valid bearer key is required");
    const response = await fetch(`${server.url}/score`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ data_source: "d", solution_str: "x", ground_truth: 7 }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: "invalid_request", field: "ground_truth" },
    });
  });

  it("scores a failing reward 0 when asked to, and times out a slow one naming it", async () => {
    const slow = await serveRewards(
      [
        {
          name: "fragile",
          fn: (output) => {
            if (output !== "slow") throw new Error("no");
            return 2;
          },
        },
        {
          name: "sleepy",
          fn: (output) => new Promise((resolve) => setTimeout(() => resolve(1), output === "slow" ? 500 : 0)),
        },
      ],
      { timeoutMs: 100 },
    );
    try {
      const post = (body: unknown) =>
        fetch(`${slow.url}/score`, { method: "POST", body: JSON.stringify(body) }).then(async (r) => ({
          status: r.status,
          body: await r.json(),
        }));
      const base = { data_source: "d", ground_truth: "g" };
      expect(await post({ ...base, solution_str: "fast", on_reward_error: "zero" })).toEqual({
        status: 200,
        body: { score: 1, fragile: 0, sleepy: 1 },
      });
      expect(await post({ ...base, solution_str: "slow", on_reward_error: "zero" })).toEqual({
        status: 200,
        body: { score: 2, fragile: 2, sleepy: 0 },
      });
      const timedOut = await post({ ...base, solution_str: "slow" });
      expect(timedOut).toEqual({
        status: 504,
        body: {
          error: {
            type: "reward_timeout",
            message: 'Reward "sleepy" took longer than 100 ms',
            reward: "sleepy",
          },
        },
      });
    } finally {
      await slow.close();
    }
  });

  it("scores at most `concurrency` requests at once and answers routing errors as JSON", async () => {
    let running = 0;
    let started = 0;
    let most = 0;
    const gated = await serveRewards(
      [
        {
          name: "slow",
          fn: async () => {
            running++;
            started++;
            most = Math.max(most, running);
            // Hold each call until a second one runs beside it (or none is left to come): with a gate of 2 the
            // calls go in pairs, and a third would only show up if the gate let it through.
            while (running < 2 && started < 6) await new Promise((resolve) => setImmediate(resolve));
            await new Promise((resolve) => setTimeout(resolve, 5));
            running--;
            return 1;
          },
        },
      ],
      { concurrency: 2, maxBodyBytes: 1024 },
    );
    try {
      const body = JSON.stringify({ data_source: "d", solution_str: "x", ground_truth: "g" });
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          fetch(`${gated.url}/score`, { method: "POST", body }).then((r) => r.json()),
        ),
      );
      expect(answers).toEqual(Array.from({ length: 6 }, () => ({ score: 1, slow: 1 })));
      expect(most).toBe(2);
      const status = async (path: string, init?: RequestInit) => {
        const response = await fetch(`${gated.url}${path}`, init);
        return [response.status, ((await response.json()) as { error?: { type: string } }).error?.type];
      };
      expect(await status("/nowhere", { method: "POST", body })).toEqual([404, "not_found"]);
      expect(await status("/score")).toEqual([405, "method_not_allowed"]);
      expect(await status("/score", { method: "POST", body: "x".repeat(2048) })).toEqual([413, "too_large"]);
      expect(await status("/score", { method: "POST", body: "{not json" })).toEqual([400, "invalid_request"]);
      const health = await fetch(`${gated.url}/health`).then((r) => r.json());
      expect(health).toEqual({ ok: true, rewards: [{ name: "slow", weight: 1 }] });
    } finally {
      await gated.close();
    }
  });

  it("refuses a reward named score", async () => {
    const error = await serveRewards([{ name: "score", fn: () => 1 }]).catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error) && error.field).toBe("rewards[0].name");
  });

  it("closes once however often close() is called, and then refuses connections", async () => {
    const local = await serveRewards([{ name: "one", fn: () => 1 }]);
    const health = await fetch(`${local.url}/health`);
    expect(health.status).toBe(200);
    await Promise.all([local.close(), local.close()]);
    await expect(local.close()).resolves.toBeUndefined();
    await expect(fetch(`${local.url}/health`)).rejects.toThrow();
  });
});
