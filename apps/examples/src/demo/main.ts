import { runCommand } from "../command-line.js";
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

await runCommand("demo", () => main(process.argv.slice(2)));
