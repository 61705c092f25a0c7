import { OrbiterError } from "@orbiter/types";
import { DEMO_HELP, parseDemoArgs } from "./cli.js";
import { runDemo } from "./run-demo.js";

/** `pnpm demo`: parses the command line, runs the demo and sets the exit code. */
async function main(argv: ReadonlyArray<string>): Promise<number> {
  const parsed = parseDemoArgs(argv);
  if (parsed.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  await runDemo(parsed.options);
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // Printed here, not rethrown: an uncaught error would also dump the wasm backend's module source.
  const message = OrbiterError.isInstance(error)
    ? error.message
    : error instanceof Error
      ? (error.stack ?? error.message)
      : String(error);
  process.stderr.write(`demo failed: ${message}\n`);
  process.exitCode = 1;
}
