import { open, stat } from "node:fs/promises";
import { InvalidArgumentError, parseWith, type TrajectoryItem } from "@orbiter/types";
import type { TrajectoryDataset, TrajectoryDatasetOptions } from "../dataset/trajectory-dataset.js";
import {
  checkPath,
  type ImportWarning,
  type ReadOptionsInput,
  resolveReadOptions,
} from "../io/import-options.js";
import { RevisionCollector } from "../io/item-revisions.js";
import { readJsonlFile } from "../io/jsonl-file.js";
import { JsonlSink, JsonlSinkOptions } from "./jsonl-sink.js";

/** Options of {@link TrajectoryDataset.recoverJsonl} (and `JsonlSink.recover`). */
export type JsonlRecoverOptions = ReadOptionsInput &
  TrajectoryDatasetOptions & {
    /**
     * Truncate the torn last line off the file, so appends can resume after the last complete line.
     * @default true
     */
    repair?: boolean;
    /**
     * Reopen the file for appending after recovery and attach the new {@link JsonlSink} to the returned
     * dataset (implies `repair`); `true` uses the default sink options. Cannot be combined with `sink`.
     * @default false
     */
    resume?: boolean | JsonlSinkOptions;
  };

/** What {@link JsonlSink.recover} found and did. */
export interface JsonlRecoveryReport {
  /** The file recovered. */
  path: string;
  /** False when the file did not exist (nothing to recover). */
  existed: boolean;
  /** Items recovered. */
  records: number;
  /** The torn last line that was dropped, if any. */
  tornLine: { line: number; bytes: number } | undefined;
  /**
   * True when the file was changed so that appends can resume: the torn line cut off, or the line break
   * added after a complete last line that lacked it.
   */
  repaired: boolean;
  /** Every record dropped or skipped, torn line included (each was also given to `onWarning`). */
  warnings: ImportWarning[];
}

/** The result of {@link JsonlSink.recover}. */
export interface JsonlRecovery {
  /** The recovered items (with the resumed sink attached when `resume` was asked). */
  dataset: TrajectoryDataset;
  /** What was recovered and dropped. */
  report: JsonlRecoveryReport;
  /** The sink appending to the file again, when `resume` was asked. */
  sink: JsonlSink | undefined;
}

/** What {@link readRecoverableJsonl} found: the items, the report, and the options of the dataset to build. */
export interface RecoveredJsonl {
  /** The recovered items, validated, in file order (revisions applied). */
  items: TrajectoryItem[];
  /** What was recovered and dropped. */
  report: JsonlRecoveryReport;
  /** The sink appending to the file again, when `resume` was asked. */
  sink: JsonlSink | undefined;
  /** Strategy and sink of the dataset that takes the items. */
  datasetOptions: TrajectoryDatasetOptions;
}

/**
 * The file side of a JSONL recovery: checks the options, reads every complete line, drops (and with `repair`
 * cuts off) a torn last line, and opens the resumed sink. The dataset side ({@link TrajectoryDataset.recoverJsonl})
 * builds the dataset from the result.
 *
 * @param what how the caller is named in errors (`"JsonlSink.recover"`)
 */
export async function readRecoverableJsonl(
  path: string,
  options: JsonlRecoverOptions,
  what: string,
): Promise<RecoveredJsonl> {
  checkPath(path);
  const { repair = true, resume = false, strategy, sink, ...read } = options;
  const readOptions = resolveReadOptions(read, what);
  if (typeof repair !== "boolean") {
    throw new InvalidArgumentError(`Invalid ${what} options: "options.repair" must be a boolean`, {
      field: "options.repair",
      value: repair,
    });
  }
  // Checked before the file is touched, and named as a recover option.
  const resumeOptions =
    typeof resume === "boolean"
      ? resume
      : parseWith(JsonlSinkOptions, resume, { what: `${what} options`, path: "options.resume" });
  if (resume !== false && sink !== undefined) {
    throw new InvalidArgumentError(`Invalid ${what} options: pass either "resume" or "sink", not both`, {
      field: "options.sink",
    });
  }
  const existed = await stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return false;
      throw error;
    },
  );
  const items: TrajectoryItem[] = [];
  const collector = new RevisionCollector(items);
  const report: JsonlRecoveryReport = {
    path,
    existed,
    records: 0,
    tornLine: undefined,
    repaired: false,
    warnings: [],
  };
  if (existed) {
    const warnings: ImportWarning[] = [];
    const summary = await readJsonlFile(
      path,
      {
        onError: readOptions.onError,
        onWarning: (warning) => {
          warnings.push(warning);
          read.onWarning?.(warning);
        },
      },
      "drop",
      (item) => collector.add(item),
    );
    report.records = summary.records;
    report.tornLine = summary.tornLine;
    report.warnings = warnings;
    if ((summary.tornLine || !summary.endsWithNewline) && (repair || resume !== false)) {
      const handle = await open(path, "r+");
      try {
        // Cut the torn line off, or end a complete last line that lacks only its line break.
        if (summary.tornLine) await handle.truncate(summary.validBytes);
        else await handle.write("\n", summary.bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      report.repaired = true;
    }
  }
  let resumed: JsonlSink | undefined;
  if (resumeOptions !== false) resumed = new JsonlSink(path, resumeOptions === true ? {} : resumeOptions);
  const datasetOptions: TrajectoryDatasetOptions = {};
  if (strategy !== undefined) datasetOptions.strategy = strategy;
  const attached = resumed ?? sink;
  if (attached !== undefined) datasetOptions.sink = attached;
  return { items, report, sink: resumed, datasetOptions };
}
