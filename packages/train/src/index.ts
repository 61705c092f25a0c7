/**
 * orbiter-train in one import: every public symbol of `@orbiter/types`, `@orbiter/trajectory`,
 * `@orbiter/gateway`, `@orbiter/synthesis`, `@orbiter/trainer-core`, `@orbiter/evolution`, `@orbiter/verl` and
 * `@orbiter/handoff`, as `orbiter.train` is in the Python guide. A name exported by two packages would be a type
 * error here.
 *
 * @example
 * ```ts
 * import { TrajectoryDataset, SynthesisPipeline, EvolutionPipeline, VeRLTrainer } from "@orbiter/train";
 * ```
 */
export * from "@orbiter/evolution";
export * from "@orbiter/gateway";
export * from "@orbiter/handoff";
export * from "@orbiter/synthesis";
export * from "@orbiter/trainer-core";
export * from "@orbiter/trajectory";
export * from "@orbiter/types";
export * from "@orbiter/verl";
