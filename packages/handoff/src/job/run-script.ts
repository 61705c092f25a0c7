import type { VerlOverride } from "./verl-settings.js";
import { VERL_VERSION } from "./verl-version.js";

/** Characters Hydra reads as part of a plain (unquoted) string value. */
const PLAIN = /^[A-Za-z0-9_\-./:~+@]+$/;

/** A string as Hydra reads it: plain when it can be, otherwise single-quoted with `\` and `'` escaped. */
export function hydraString(value: string): string {
  if (PLAIN.test(value) && !/^(true|false|null|[-+]?\d)/i.test(value)) return value;
  // Hydra: backslashes are literal except before a quote (and at the end, before the closing quote).
  const escaped = value
    .replace(/(\\*)'/g, (_, slashes: string) => `${slashes}${slashes}\\'`)
    .replace(/(\\+)$/, "$1$1");
  return `'${escaped}'`;
}

/** A number as Hydra reads it (JavaScript's shortest round-trip form; `1e-7` is a Hydra float too). */
function hydraNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`internal: ${value} is not a finite number`);
  return String(value);
}

/** One shell word: single-quoted, with `'` written as `'\''`. */
export function shellWord(text: string): string {
  return `'${text.replace(/'/g, "'\\''")}'`;
}

/** The override as one shell word; paths inside the job folder are joined to `$JOB_DIR` at run time. */
export function renderOverride(override: VerlOverride): string {
  const { key, value } = override;
  if (typeof value === "object" && !Array.isArray(value)) return `"${key}=$JOB_DIR/${value.jobPath}"`;
  let text: string;
  if (typeof value === "number") text = hydraNumber(value);
  else if (typeof value === "boolean") text = value ? "true" : "false";
  else if (Array.isArray(value)) text = `[${value.map(hydraString).join(",")}]`;
  else text = hydraString(value);
  return shellWord(`${key}=${text}`);
}

/**
 * `run_verl.sh`: runs `python3 -m verl.trainer.main_ppo` with the overrides, from wherever the job folder is
 * (its absolute path is resolved at run time, as verl's Ray workers need). Extra arguments are passed on to verl
 * as more overrides.
 */
export function renderRunScript(overrides: ReadonlyArray<VerlOverride>): string {
  const lines = [
    "#!/usr/bin/env bash",
    `# A verl ${VERL_VERSION.version} PPO job written by @orbiter/handoff. Run it on the Ray head node:`,
    "#   bash run_verl.sh [more Hydra overrides]",
    "# The reward server must be reachable at ORBITER_REWARD_URL (see README.md).",
    "set -euo pipefail",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash, not a template
    'JOB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
    'case "$JOB_DIR" in',
    "  *[!A-Za-z0-9_./-]*)",
    '    echo "run_verl.sh: move the job to a path of letters, digits and _ . / - only (Hydra splits on others): $JOB_DIR" >&2',
    "    exit 2",
    "    ;;",
    "esac",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash, not a template
    'PYTHON="${PYTHON:-python3}"',
    "\"$PYTHON\" - <<'PY'",
    "import importlib.metadata as metadata, sys",
    `expected = "${VERL_VERSION.version}"`,
    "try:",
    '    found = metadata.version("verl")',
    "except metadata.PackageNotFoundError:",
    '    sys.exit(f"run_verl.sh: verl is not installed: pip install verl=={expected}")',
    "if found.split('.')[:2] != expected.split('.')[:2]:",
    '    print(f"run_verl.sh: this job was written for verl {expected}, found {found}", file=sys.stderr)',
    "PY",
    'exec "$PYTHON" -m verl.trainer.main_ppo \\',
    ...overrides.map((override) => `  ${renderOverride(override)} \\`),
    '  "$@"',
    "",
  ];
  return lines.join("\n");
}
