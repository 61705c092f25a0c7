import { blockParameterSpecs, type ParameterSpec } from "./transformer-block.js";
import type { ResolvedTransformerConfig } from "./transformer-config.js";

/** The names, shapes and init of every parameter of a transformer of the given sizes, in a fixed order. */
export function transformerParameterSpecs(config: ResolvedTransformerConfig): ParameterSpec[] {
  const { vocabSize: v, contextLength: t, dModel: d, dMlp: m, nLayers, initStd } = config;
  const residualStd = initStd / Math.sqrt(2 * nLayers);
  const specs: ParameterSpec[] = [
    { name: "token_embedding", shape: [v, d], init: "normal", std: initStd },
    { name: "position_embedding", shape: [t, d], init: "normal", std: initStd },
  ];
  for (let i = 0; i < nLayers; i++) {
    for (const { field: _, ...spec } of blockParameterSpecs(i, { d, m, initStd, residualStd }))
      specs.push(spec);
  }
  specs.push(
    { name: "final_ln.gain", shape: [d], init: "ones" },
    { name: "final_ln.bias", shape: [d], init: "zeros" },
    { name: "lm_head.weight", shape: [d, v], init: "normal", std: initStd },
    { name: "lm_head.bias", shape: [v], init: "zeros" },
  );
  if (config.valueHead) {
    specs.push(
      { name: "value_head.weight", shape: [d, 1], init: "normal", std: initStd },
      { name: "value_head.bias", shape: [1], init: "zeros" },
    );
  }
  return specs;
}
