import type { Options } from "tsup";
import { packageBuild } from "../../tsup.base.js";

const base = packageBuild(["src/index.ts"]) as Options;

// The policy worker is a second entry (dist/policy-worker.js, loaded by worker threads by file URL); it needs
// no declarations.
export default {
  ...base,
  entry: { index: "src/index.ts", "policy-worker": "src/parallel/policy-worker.ts" },
  dts: { ...(base.dts as object), entry: { index: "src/index.ts" } },
} satisfies Options;
