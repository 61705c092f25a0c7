import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The guide's `Trainer` subclass (DESIGN.md, "Trainer"), exactly as written there, followed by the lines a user
 * adds to run it. It must compile for a user whose tsconfig says only `strict`.
 */
const guideSnippet = `
import { Trainer, TrainerState, type TrainMetrics } from "@orbiter/trainer-core";
class MyTrainer extends Trainer {                  // constructor({ agent, dataset, rewardFn, config })
  async checkAgent() { return this.agent != null; }
  async checkDataset() { return this.dataset.length > 0; }
  async checkReward() { return this.rewardFn != null; }
  async checkConfig() { return this.config.epochs > 0; }
  async train(): Promise<TrainMetrics> { return { loss: 0.5, accuracy: 0.85 }; }
  async evaluate(): Promise<TrainMetrics> { return { loss: 0.3, accuracy: 0.9 }; }
}
const trainer = new MyTrainer({ agent: {}, dataset: ["a", "b"], rewardFn: () => 1, config: { epochs: 1 } });
await trainer.run();   // CREATED→VALIDATING→VALIDATED→TRAINING→TRAINED→EVALUATING→COMPLETE, or ERROR
export const done: boolean = trainer.state === TrainerState.COMPLETE;
`;

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Parsed library and package files, shared by the programs of this suite (only the user's file changes). */
const parsed = new Map<string, ts.SourceFile | undefined>();

/** Type-checks `source` as a user's module inside this package (so `@orbiter/trainer-core` resolves to it). */
function diagnosticsOf(source: string): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ["@orbiter/source"],
    types: ["node"],
    skipLibCheck: true,
    noEmit: true,
  };
  const file = join(packageRoot, "src", "user-trainer.ts");
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  host.readFile = (name) => (name === file ? source : readFile.call(host, name));
  host.getSourceFile = (name, language, ...rest) => {
    if (name === file) return ts.createSourceFile(name, source, language);
    if (!parsed.has(name)) parsed.set(name, getSourceFile.call(host, name, language, ...rest));
    return parsed.get(name);
  };
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file?.fileName === file)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
}

describe("the guide's Trainer subclass", () => {
  it("compiles under strict exactly as written", () => {
    expect(diagnosticsOf(guideSnippet)).toEqual([]);
  });

  it("is really type-checked: a misspelt field or a wrong metric is an error", () => {
    const misspelt = guideSnippet.replace("this.dataset.length > 0", "this.dataset.lenght > 0");
    expect(diagnosticsOf(misspelt).join("\n")).toContain("lenght");
    const wrong = guideSnippet.replace("{ loss: 0.5, accuracy: 0.85 }", '{ loss: "0.5", accuracy: 0.85 }');
    expect(diagnosticsOf(wrong)).toHaveLength(1);
  });
});
