import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { captureMessages, TrajectoryDataset } from "@orbiter/trajectory";
import { InvalidArgumentError, type TrajectoryItem } from "@orbiter/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatasetMessage } from "../formats/dataset-message.js";
import { readJsonlDataset, writeJsonlDataset } from "../io/jsonl-dataset.js";
import {
  openAiChatRowsFromEpisodes,
  openAiPreferenceRows,
  preferencePairsFromEpisodes,
  trlConversationalRowsFromEpisodes,
  trlPreferenceRows,
} from "./episode-rows.js";
import { readRecordedEpisodes, recordedEpisodes } from "./recorded-episodes.js";
import { verlRowsFromEpisodes } from "./sample-rows.js";

const tools = [
  {
    type: "function" as const,
    function: {
      name: "lookup",
      description: "Finds a capital",
      parameters: { type: "object", properties: { country: { type: "string" } } },
    },
  },
];
const system: DatasetMessage = { role: "system", content: "Use the tools. Réponds brièvement 🙂" };
const user: DatasetMessage = { role: "user", content: "Capital of France?" };
const call = (id: string): DatasetMessage => ({
  role: "assistant",
  content: null,
  tool_calls: [{ id, type: "function", function: { name: "lookup", arguments: '{"country":"France"}' } }],
});

/**
 * Items as the gateway records them: one per model call (`step` = call index, `messages` = request + reply,
 * `metadata.tools`), reward 0 — the episode's reward comes later as a revision of its last item.
 */
function gatewayItems(episodeId: string, answer: string, status = "success"): TrajectoryItem[] {
  const first = [system, user, call("c1")];
  const second = [system, user, call("c1"), { role: "tool" as const, tool_call_id: "c1", content: "Paris" }];
  const metadata = { tools, parallel_tool_calls: false, source: "gateway", rolloutId: episodeId };
  return [
    captureMessages(first, {
      id: `${episodeId}-0`,
      reward: 0,
      episodeId,
      step: 0,
      status: "success",
      metadata,
    }),
    captureMessages([...second, { role: "assistant", content: answer }], {
      id: `${episodeId}-1`,
      reward: 0,
      episodeId,
      step: 1,
      status,
      metadata,
    }),
  ];
}

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "handoff-episodes-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function gatewayFile(): Promise<string> {
  const dataset = new TrajectoryDataset();
  // interleaved and out of order, as concurrent rollouts leave them
  const good = gatewayItems("good", "Paris.");
  const bad = gatewayItems("bad", "Lyon.");
  const failed = gatewayItems("failed", "Paris!", "error");
  for (const item of [good[1], bad[0], good[0], bad[1], failed[0], failed[1]])
    dataset.capture(item as TrajectoryItem);
  const path = join(dir, "gateway.jsonl");
  await dataset.exportJsonl(path);
  // the episode rewards, appended as revisions of each last item
  const revisions = [
    { ...good[1], reward: 1 },
    { ...bad[1], reward: 0.25 },
    { ...failed[1], reward: 1 },
  ];
  await appendFile(path, revisions.map((item) => `${JSON.stringify(item)}\n`).join(""));
  return path;
}

describe("recorded episodes", () => {
  it("groups gateway items by episode, orders them by step and takes the last transcript and the revised reward", async () => {
    const episodes = await readRecordedEpisodes(await gatewayFile());
    expect(
      episodes.map((episode) => [episode.episodeId, episode.reward, episode.messages.length, episode.status]),
    ).toEqual([
      ["good", 1, 5, "success"],
      ["bad", 0.25, 5, "success"],
      ["failed", 1, 5, "error"],
    ]);
    expect(episodes[0]?.tools).toEqual(tools);
    expect(episodes[0]?.messages.at(-1)).toEqual({ role: "assistant", content: "Paris." });
  });

  it("becomes OpenAI and TRL SFT rows (failed episodes left out) that round-trip through their files", async () => {
    const episodes = await readRecordedEpisodes(await gatewayFile());
    const openai = openAiChatRowsFromEpisodes(episodes, { minReward: 0.5, trainOn: "last" });
    expect(openai).toHaveLength(1);
    expect(openai[0]?.parallel_tool_calls).toBe(false);
    expect(openai[0]?.messages.map((message) => message.weight)).toEqual([
      undefined,
      undefined,
      0,
      undefined,
      1,
    ]);
    const path = join(dir, "sft.jsonl");
    await writeJsonlDataset(path, openai, { format: "openai-chat" });
    expect(await readJsonlDataset(path, { format: "openai-chat" })).toEqual(openai);
    const trl = trlConversationalRowsFromEpisodes(episodes);
    expect(trl.map((row) => row.messages.at(-1)?.content)).toEqual(["Paris.", "Lyon."]);
    await writeJsonlDataset(join(dir, "trl.jsonl"), trl, { format: "trl-conversational" });
    expect(await readJsonlDataset(join(dir, "trl.jsonl"), { format: "trl-conversational" })).toEqual(trl);
  });

  it("pairs episodes of the same conversation by reward into OpenAI and TRL preference rows", async () => {
    const episodes = await readRecordedEpisodes(await gatewayFile());
    const pairs = preferencePairsFromEpisodes(episodes);
    expect(pairs).toHaveLength(1);
    expect(pairs[0]?.rewards).toEqual({ chosen: 1, rejected: 0.25 });
    const [openai] = openAiPreferenceRows(pairs);
    expect(openai?.input.messages).toHaveLength(4);
    expect(openai?.preferred_output).toEqual([{ role: "assistant", content: "Paris." }]);
    expect(openai?.non_preferred_output).toEqual([{ role: "assistant", content: "Lyon." }]);
    const [trl] = trlPreferenceRows(pairs);
    expect(trl).toMatchObject({ chosen: [{ content: "Paris." }], rejected: [{ content: "Lyon." }], tools });
    await writeJsonlDataset(join(dir, "dpo.jsonl"), openAiPreferenceRows(pairs), {
      format: "openai-preference",
    });
    await writeJsonlDataset(join(dir, "trl-dpo.jsonl"), trlPreferenceRows(pairs), {
      format: "trl-preference",
    });
    expect(await readJsonlDataset(join(dir, "dpo.jsonl"), { format: "openai-preference" })).toEqual(
      openAiPreferenceRows(pairs),
    );
  });

  it("becomes verl rows whose prompt is the conversation before the first reply", async () => {
    const episodes = await readRecordedEpisodes(await gatewayFile());
    const rows = verlRowsFromEpisodes(episodes, { dataSource: "capitals", groundTruth: () => "Paris" });
    expect(rows[0]).toEqual({
      data_source: "capitals",
      prompt: [
        { role: "system", content: "Use the tools. Réponds brièvement 🙂" },
        { role: "user", content: "Capital of France?" },
      ],
      ability: "",
      reward_model: { style: "rule", ground_truth: "Paris" },
      extra_info: { split: "train", index: 0, sample_id: "good", input: "Capital of France?" },
    });
  });

  it("names the item whose transcript is malformed", () => {
    const item = captureMessages([user, call("c9")], { reward: 1, episodeId: "e", step: 0 });
    const broken = {
      ...item,
      messages: [
        user,
        {
          ...call("c9"),
          tool_calls: [
            { id: "c9", type: "function" as const, function: { name: "f", arguments: "{not json" } },
          ],
        },
      ],
    };
    let error: unknown;
    try {
      recordedEpisodes([broken]);
    } catch (caught) {
      error = caught;
    }
    expect(InvalidArgumentError.isInstance(error) && error.field).toBe(
      'episodes["e"].items[0].messages[1].tool_calls[0].function.arguments',
    );
  });
});
