// The benchmark's single entry into the package sources and shared types.
export { SeededRandom } from "@orbiter/types";
export * from "../src/index.js";
export { DataParallelGroup } from "../src/parallel/data-parallel-group.js";
