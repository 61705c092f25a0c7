import { join } from "node:path";
import type { DemoPhase } from "./cli.js";

/** Where a demo run writes everything, under its output folder. */
export interface DemoPaths {
  /** The output folder. */
  root: string;
  /** The HTML report. */
  report: string;
  /** Every number of the run, as JSON. */
  summary: string;
  /** One SVG file per chart. */
  charts: string;
  /** Captured trajectories, synthesised samples and the splits. */
  datasets: {
    /** The durable sink the trajectories were appended to as they were captured. */
    sink: string;
    json: string;
    jsonl: string;
    csv: string;
    /** Every sample synthesis kept (JSON Lines of trajectory items). */
    synthesized: string;
    train: string;
    validation: string;
    test: string;
  };
  /** Metrics logs (JSON lines, one per optimiser step). */
  metrics: { sft: string; grpo: string; ppo: string };
  /** Policy checkpoints (safetensors weights with the tokenizer and sizes). */
  checkpoints: { sft: string; grpo: string; ppo: string; final: string };
  /** The JSON result of one phase. */
  result(phase: DemoPhase): string;
}

/** The layout of an output folder. */
export function demoPaths(root: string): DemoPaths {
  const datasets = join(root, "datasets");
  const metrics = join(root, "metrics");
  const checkpoints = join(root, "checkpoints");
  return {
    root,
    report: join(root, "report.html"),
    summary: join(root, "summary.json"),
    charts: join(root, "charts"),
    datasets: {
      sink: join(datasets, "capture-sink.jsonl"),
      json: join(datasets, "trajectories.json"),
      jsonl: join(datasets, "trajectories.jsonl"),
      csv: join(datasets, "trajectories.csv"),
      synthesized: join(datasets, "synthesized.jsonl"),
      train: join(datasets, "train.jsonl"),
      validation: join(datasets, "validation.jsonl"),
      test: join(datasets, "test.jsonl"),
    },
    metrics: {
      sft: join(metrics, "sft.jsonl"),
      grpo: join(metrics, "grpo.jsonl"),
      ppo: join(metrics, "ppo.jsonl"),
    },
    checkpoints: {
      sft: join(checkpoints, "sft"),
      grpo: join(checkpoints, "grpo"),
      ppo: join(checkpoints, "ppo"),
      final: join(checkpoints, "final"),
    },
    result: (phase) => join(root, "results", `${phase}.json`),
  };
}
