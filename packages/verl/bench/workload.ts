import * as tf from "@tensorflow/tfjs";
import type { BackendName } from "../src/index.js";

/** One line of benchmark output (the reference workload's format): `workload`, `backend`, figures, `pass`. */
export interface Measurement {
  workload: string;
  backend: BackendName;
  pass: boolean;
  [figure: string]: string | number | boolean;
}

/** A benchmark workload: measured once per backend present. Append new ones to the list in `index.ts`. */
export interface Workload {
  /** Name, as in the `workload` field of its lines. */
  name: string;
  /** Runs the workload on the (already initialised) backend and returns its measurement lines. */
  run(backend: BackendName): Promise<Measurement[]>;
}

/** Median of a non-empty list. */
export function median(values: ReadonlyArray<number>): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Rounds to 0.1 for display. */
export function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/*
 * Every timed figure is wall-clock (what the targets are about); the `*_cpu_ms` companions are the process's
 * CPU time over the same runs, which shows how much of the wall time was spent waiting for a core on a busy
 * machine (the backends here run one thread).
 */

/** Warm-up repetitions of every workload (bench/README.md: at least 5 timed runs after 2 warm-ups). */
export const WARMUP = 2;

/** Timed repetitions on the fast backends. */
const TIMED = 7;

/** Timed repetitions: {@link TIMED}, or the minimum of 5 on the plain-JavaScript cpu backend (seconds per run). */
export function timedRuns(backend: BackendName): number {
  return backend === "cpu" ? 5 : TIMED;
}

/** What {@link timeRuns} measured over the timed runs. */
export interface TimedRuns {
  /** Wall-clock milliseconds of each timed run. */
  times: number[];
  /** CPU milliseconds (user + system) of each timed run. */
  cpuTimes: number[];
  /** Tensors alive after the timed runs minus before them (0: nothing leaked). */
  leaked: number;
  /** Number of timed runs. */
  timed: number;
}

/** Runs `run` {@link WARMUP} times, then {@link timedRuns} times measuring each, and counts the tensors it leaked. */
export async function timeRuns(
  backend: BackendName,
  run: (index: number) => void | Promise<void>,
): Promise<TimedRuns> {
  const timed = timedRuns(backend);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let before = 0;
  for (let i = 0; i < WARMUP + timed; i++) {
    if (i === WARMUP) before = tf.memory().numTensors;
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    await run(i);
    const elapsed = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    if (i >= WARMUP) {
      times.push(elapsed);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  return { times, cpuTimes, leaked: tf.memory().numTensors - before, timed };
}
