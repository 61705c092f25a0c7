import { join } from "node:path";
import { fieldOf } from "@orbiter/test-support";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_OPTIONS,
  DEFAULT_OUT_DIR,
  DEMO_HELP,
  type DemoOptions,
  parseDemoArgs,
  QUICK_OPTIONS,
} from "./cli.js";

function options(argv: string[], cwd?: string, env?: NodeJS.ProcessEnv): DemoOptions {
  const parsed = parseDemoArgs(argv, cwd, env);
  if (parsed.help) throw new Error("unexpected help");
  return parsed.options;
}

describe("parseDemoArgs", () => {
  it("defaults to every phase, the auto backend, fused multiply-adds on and apps/examples/out", () => {
    const parsed = options([], undefined, {});
    expect(parsed.fma).toEqual({ mode: "on", source: "default" });
    expect(parsed).toEqual({ ...DEFAULT_OPTIONS, out: DEFAULT_OUT_DIR });
    expect(DEFAULT_OUT_DIR.endsWith(join("apps", "examples", "out"))).toBe(true);
  });

  it("applies --quick sizes, which explicit options override", () => {
    const parsed = options(["--quick", "--rl-steps", "5", "--phase", "rl", "--backend", "cpu"]);
    expect(parsed.quick).toBe(true);
    expect(parsed.episodes).toBe(QUICK_OPTIONS.episodes);
    expect(parsed.model).toEqual(QUICK_OPTIONS.model);
    expect(parsed.model.rotary).toBe(true);
    expect(options(["--quick", "--no-rotary"]).model).toEqual({ ...QUICK_OPTIONS.model, rotary: false });
    expect(parsed.rlSteps).toBe(5);
    expect(parsed.phase).toBe("rl");
    expect(parsed.backend).toBe("cpu");
  });

  it("defaults to rotary positions; --positions learned or --no-rotary turns them off", () => {
    expect(DEFAULT_OPTIONS.model.rotary).toBe(true);
    expect(options([]).model.rotary).toBe(true);
    expect(options(["--positions", "learned"]).model).toEqual({ ...DEFAULT_OPTIONS.model, rotary: false });
    expect(options(["--no-rotary"]).model).toEqual({ ...DEFAULT_OPTIONS.model, rotary: false });
    expect(options(["--positions", "rotary"]).model.rotary).toBe(true);
    expect(options(["--rotary", "--positions", "rotary"]).model.rotary).toBe(true);
    expect(fieldOf(() => parseDemoArgs(["--positions", "absolute"]))).toBe("--positions");
    expect(fieldOf(() => parseDemoArgs(["--positions", "rotary", "--no-rotary"]))).toBe("--no-rotary");
    expect(fieldOf(() => parseDemoArgs(["--rotary", "--no-rotary"]))).toBe("--no-rotary");
  });

  it("resolves a relative --out against the working directory and reads every size knob", () => {
    const parsed = options(
      [
        "--out",
        "results/run1",
        "--seed",
        "42",
        "--episodes",
        "100",
        "--target-size",
        "200",
        "--sft-epochs",
        "3",
        "--population",
        "6",
        "--generations",
        "3",
        "--evolution-steps",
        "4",
        "--ppo-steps",
        "0",
      ],
      "/tmp/work",
    );
    expect(parsed).toMatchObject({
      out: "/tmp/work/results/run1",
      seed: 42,
      episodes: 100,
      targetSize: 200,
      sftEpochs: 3,
      population: 6,
      generations: 3,
      evolutionSteps: 4,
      ppoSteps: 0,
    });
  });

  it("takes --fma over ORBITER_WASM_FMA over the default, and names the one holding a bad value", () => {
    const fma = (argv: string[], env: NodeJS.ProcessEnv) => options(argv, undefined, env).fma;
    expect(fma(["--fma", "off"], {})).toEqual({ mode: "off", source: "--fma" });
    expect(fma(["--fma", "auto"], { ORBITER_WASM_FMA: "off" })).toEqual({ mode: "auto", source: "--fma" });
    expect(fma([], { ORBITER_WASM_FMA: "off" })).toEqual({ mode: "off", source: "ORBITER_WASM_FMA" });
    expect(fma(["--quick"], { ORBITER_WASM_FMA: "auto" })).toEqual({
      mode: "auto",
      source: "ORBITER_WASM_FMA",
    });
    // An empty variable counts as unset.
    expect(fma([], { ORBITER_WASM_FMA: "" })).toEqual({ mode: "on", source: "default" });
    expect(fieldOf(() => parseDemoArgs(["--fma", "fast"], undefined, {}))).toBe("--fma");
    expect(() => parseDemoArgs(["--fma", "fast"], undefined, {})).toThrow(
      '--fma must be one of auto, on, off, got "fast"',
    );
    expect(fieldOf(() => parseDemoArgs([], undefined, { ORBITER_WASM_FMA: "yes" }))).toBe("ORBITER_WASM_FMA");
    // A good --fma wins even over a bad variable, which it never reads.
    expect(fma(["--fma", "on"], { ORBITER_WASM_FMA: "yes" })).toEqual({ mode: "on", source: "--fma" });
  });

  it("names the option of a bad value or an unknown option", () => {
    expect(fieldOf(() => parseDemoArgs(["--phase", "train"]))).toBe("--phase");
    expect(fieldOf(() => parseDemoArgs(["--backend", "gpu"]))).toBe("--backend");
    expect(fieldOf(() => parseDemoArgs(["--rl-steps", "0"]))).toBe("--rl-steps");
    expect(fieldOf(() => parseDemoArgs(["--sft-epochs", "2.5"]))).toBe("--sft-epochs");
    expect(fieldOf(() => parseDemoArgs(["--seed", "abc"]))).toBe("--seed");
    expect(fieldOf(() => parseDemoArgs(["--speed", "9"]))).toBe("argv");
  });

  it("answers --help with a text that documents every option", () => {
    expect(parseDemoArgs(["--help"])).toEqual({ help: true });
    expect(parseDemoArgs(["-h"])).toEqual({ help: true });
    for (const flag of [
      "--phase",
      "--backend",
      "--fma",
      "ORBITER_WASM_FMA",
      "--out",
      "--seed",
      "--episodes",
      "--target-size",
      "--sft-epochs",
      "--population",
      "--generations",
      "--evolution-steps",
      "--rl-steps",
      "--ppo-steps",
      "--positions",
      "--no-rotary",
      "--quick",
    ]) {
      expect(DEMO_HELP).toContain(flag);
    }
  });
});
