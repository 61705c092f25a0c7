import { InvalidArgumentError, InvalidStateError, parseWith, type SampleSource } from "@orbiter/types";
import type { SynthesisStep } from "./data-synthesiser.js";
import {
  checkPipelineOptions,
  parseRunOptions,
  type SynthesisPipelineOptions,
  type SynthesisRunOptions,
} from "./pipeline-options.js";
import { PipelineRun } from "./pipeline-run.js";
import { SynthesisConfig } from "./synthesis-config.js";
import type { SynthesisResult } from "./synthesis-result.js";

/**
 * A multi-step data synthesis pipeline: it filters and de-duplicates the seed data, then asks its steps for
 * new samples round after round until `targetSize` samples are kept or `maxRounds` is reached. Every new
 * sample is scored (when a scorer is configured), dropped below `minScore`, and dropped when it is a
 * near-duplicate of anything kept so far; checks happen in a fixed order, so the same seed gives the same
 * result. With a `checkpoint` path the run can be killed and started again without losing or repeating
 * samples.
 *
 * @example
 * ```ts
 * const pipeline = new SynthesisPipeline({ config: { targetSize: 1000, minScore: 0.7, dedupThreshold: 0.9 } });
 * pipeline.addStep(new TemplateSynthesiser({ templates: ["Explain {c}"], variables: { c: ["Rust", "Go"] } }));
 * const result = await pipeline.run(seedData, { onProgress: (p) => console.log(p.fraction) });
 * console.log(result.generatedCount, result.filteredCount, result.items.length);
 * ```
 */
export class SynthesisPipeline {
  /** The parsed configuration. */
  readonly config: SynthesisConfig;
  private readonly stepList: SynthesisStep[] = [];
  private readonly checkpoint: string | undefined;
  private readonly durableCheckpoint: boolean;
  private running = false;

  /** @throws InvalidArgumentError naming an unknown or mistyped option, or the bad field of the config */
  constructor(options: SynthesisPipelineOptions = {}) {
    checkPipelineOptions(options);
    this.config = parseWith(SynthesisConfig, options.config ?? {}, {
      what: "SynthesisConfig",
      path: "config",
    });
    this.checkpoint = options.checkpoint;
    this.durableCheckpoint = options.durableCheckpoint === true;
    for (const step of options.steps ?? []) this.addStep(step);
  }

  /** The steps, in the order they are called. */
  get steps(): ReadonlyArray<SynthesisStep> {
    return this.stepList;
  }

  /** Appends a step; returns the pipeline, so calls can be chained. */
  addStep(step: SynthesisStep): this {
    if (step == null || typeof step.synthesise !== "function") {
      throw new InvalidArgumentError("A step must have a synthesise(source, context) method", {
        field: `steps[${this.stepList.length}]`,
      });
    }
    this.stepList.push(step);
    return this;
  }

  /**
   * Runs the pipeline on `seedData` (samples, sample inputs, or anything with `toSamples()`, such as a
   * trajectory dataset).
   */
  async run(seedData: SampleSource = [], runOptions: SynthesisRunOptions = {}): Promise<SynthesisResult> {
    const options = parseRunOptions(runOptions);
    if (this.running) throw new InvalidStateError("This pipeline is already running", { state: "running" });
    this.running = true;
    try {
      return await new PipelineRun(this.config, this.stepList, seedData, {
        signal: options.signal,
        onProgress: options.onProgress,
        checkpoint: options.checkpoint ?? this.checkpoint,
        durableCheckpoint: this.durableCheckpoint,
      }).execute();
    } finally {
      this.running = false;
    }
  }
}
