import { afterAll, describe, expect, it } from "vitest";
import { initBackend } from "../backend/init-backend.js";
import { backendsForTests } from "../internal/testing/test-backends.js";
import { setWasmFma, type WasmFmaMode } from "../internal/wasm-fma.js";
import { TransformerPolicy } from "../model/transformer-policy.js";
import { CharTokenizer } from "../tokenizer/char-tokenizer.js";
import { DataParallelGroup } from "./data-parallel-group.js";

const wasmPresent = (await backendsForTests()).includes("wasm");

afterAll(() => {
  setWasmFma("off");
});

describe.runIf(wasmPresent)("policy workers and the fused multiply-add setting", () => {
  // A split rollout computes every row exactly as one thread does when every product runs on the SIMD kernels
  // (vocabulary 16, rows in fours on each thread), so its log-probs are bit-identical to one thread's only when
  // the worker's kernels round as the main thread's: a worker that ignored the setting differs in the last bits.
  it.each(["off", "on"] as const)(
    "a worker rounds as the main thread does with fused multiply-adds %s",
    async (mode: WasmFmaMode) => {
      await initBackend({ backend: "wasm" });
      expect(setWasmFma(mode)).toBe(mode === "on");
      const tokenizer = CharTokenizer.fromCorpus(["abcdefghijkl"]);
      expect(tokenizer.vocabSize).toBe(16);
      const policy = new TransformerPolicy({
        tokenizer,
        config: { dModel: 32, nHeads: 2, nLayers: 2, dMlp: 128, contextLength: 32 },
        seed: 3,
      });
      const reference = policy.clone({ frozen: true });
      const group = await DataParallelGroup.start({ participants: 2, policy, reference, backend: "wasm" });
      try {
        const prompts = ["abcdef", "cdefgh", "hgfedc", "hhabkl", "lkjihg", "aaaabb", "jjkkll", "fedcba"];
        const options = { n: 4, maxNewTokens: 10, seed: 4, temperature: 1 };
        const one = await policy.generate(prompts, options);
        const two = await group.generate(prompts, options);
        expect(two.sequences).toEqual(one.sequences);
        expect(two.logProbs).toEqual(one.logProbs);
      } finally {
        await group.dispose();
        policy.dispose();
        reference.dispose();
      }
    },
  );
});
