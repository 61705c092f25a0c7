import { VeRLTrainer } from "../src/index.js";

for (const workers of [1, 2] as const) {
  for (const forward of [false]) {
    const explained: number[] = [];
    const trainer = new VeRLTrainer({
      config: {
        algorithm: "ppo",
        batchSize: 8,
        maxNewTokens: 4,
        epochs: 60,
        learningRate: 1e-3,
        klCoef: 0,
        model: { dModel: 32, nHeads: 2, nLayers: 1, dMlp: 64 },
        seed: 1,
        workers,
      },
      rewards: [
        {
          name: "prompt-a",
          fn: (_o: string, sample: { input: string }) => (sample.input.startsWith("a") ? 1 : 0),
        },
      ],
      onStep: ({ metrics }) => {
        explained.push(metrics.extra?.["critic/vf_explained_var"] as number);
      },
    });
    const t = performance.now();
    await trainer.train(["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"]);
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    console.log(
      workers,
      mean(explained.slice(0, 5)).toFixed(3),
      mean(explained.slice(-10)).toFixed(3),
      (performance.now() - t).toFixed(0),
      "ms",
    );
    await trainer.dispose();
  }
}
