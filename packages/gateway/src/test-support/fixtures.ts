import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TrajectoryDataset } from "@orbiter/trajectory";
import type { TrajectoryItem } from "@orbiter/types";

/** A temporary folder, removed by the returned cleanup. */
export async function temporaryFolder(
  prefix: string,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `orbiter-gateway-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** The items of a recorded JSONL file, read back as users do. */
export async function readRecords(path: string): Promise<TrajectoryItem[]> {
  return [...(await TrajectoryDataset.fromJsonl(path)).items];
}

/** Posts raw bytes to the gateway, the way a hand-written client might. */
export async function post(
  url: string,
  body: string,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<{
  status: number;
  json: { error?: { message: string; type: string; param: string | null } } & Record<string, unknown>;
}> {
  const response = await fetch(url, { method: "POST", headers, body });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : {} };
}
