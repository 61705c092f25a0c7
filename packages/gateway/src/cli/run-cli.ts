import { parseArgs } from "node:util";
import { formatPath, messageOf, OrbiterError } from "@orbiter/types";
import { Durability, GatewayOptions, startGateway } from "../index.js";

/** The CLI's help text. */
export const USAGE = `Usage: orbiter-gateway --upstream URL --out FILE.jsonl [options]

Serves an OpenAI-compatible API that forwards every call to URL and records it to FILE.jsonl.
Point an agent's baseURL at http://HOST:PORT/v1 (or /rollouts/<id>/v1 to group a run's calls).

Options:
  --upstream URL            OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (required)
  --out FILE                JSON Lines file the calls are appended to (required)
  --host HOST               interface to bind (default 127.0.0.1)
  --port PORT               port, 0 for a free one (default 0)
  --api-key KEY             key clients must send as "Authorization: Bearer KEY"
                            (or env ORBITER_GATEWAY_API_KEY)
  --upstream-api-key KEY    key sent to the upstream (or env ORBITER_UPSTREAM_API_KEY); without one,
                            the client's own Authorization header is forwarded to the upstream only
  --upstream-timeout MS     longest upstream call (default 600000)
  --body-limit BYTES        largest request body (default 10485760)
  --idle-timeout MS         end an episode after this long without calls (default 300000, 0 = never)
  --durability LEVEL        when a call is answered: "written" (its record is in the file: survives
                            kill -9; the default), "synced" (on disk: survives a power loss), "none"
  --verbose                 one line per request on stderr
  --help                    this text

Prints "listening on http://HOST:PORT" once ready; SIGINT or SIGTERM flushes the file and exits.`;

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

class UsageError extends Error {}

/** The flag each gateway option comes from, to name it when the gateway refuses its value. */
const FLAG_OF_OPTION: Readonly<Record<string, string>> = {
  "upstream.baseURL": "--upstream",
  "upstream.apiKey": "--upstream-api-key",
  "upstream.timeoutMs": "--upstream-timeout",
  out: "--out",
  host: "--host",
  port: "--port",
  apiKey: "--api-key",
  bodyLimitBytes: "--body-limit",
  idleTimeoutMs: "--idle-timeout",
};

/** Checks the options as `startGateway` will, so that a refused value is a usage error naming its flag. */
function checkFlags(options: GatewayOptions): void {
  const checked = GatewayOptions.safeParse(options);
  if (checked.success) return;
  const issue = checked.error.issues[0];
  const path = issue ? formatPath(issue.path) : "";
  throw new UsageError(
    `${FLAG_OF_OPTION[path] ?? (path || "options")}: ${issue?.message ?? "invalid value"}`,
  );
}

/** Parses the command line into gateway options (or undefined for `--help`). */
export function parseCli(
  argv: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv = process.env,
): GatewayOptions | undefined {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        upstream: { type: "string" },
        out: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        "api-key": { type: "string" },
        "upstream-api-key": { type: "string" },
        "upstream-timeout": { type: "string" },
        "body-limit": { type: "string" },
        "idle-timeout": { type: "string" },
        durability: { type: "string" },
        verbose: { type: "boolean" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
  if (values.help) return undefined;
  if (typeof values.upstream !== "string") throw new UsageError("--upstream URL is required");
  if (typeof values.out !== "string") throw new UsageError("--out FILE is required");
  const apiKey = (values["api-key"] as string | undefined) ?? env.ORBITER_GATEWAY_API_KEY;
  const upstreamKey = (values["upstream-api-key"] as string | undefined) ?? env.ORBITER_UPSTREAM_API_KEY;
  const timeoutMs = integer(values["upstream-timeout"] as string | undefined, "upstream-timeout");
  const options: GatewayOptions = {
    upstream: {
      baseURL: values.upstream,
      ...(upstreamKey ? { apiKey: upstreamKey } : {}),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    },
    out: values.out,
  };
  if (typeof values.host === "string") options.host = values.host;
  const port = integer(values.port as string | undefined, "port");
  if (port !== undefined) options.port = port;
  if (apiKey) options.apiKey = apiKey;
  const bodyLimit = integer(values["body-limit"] as string | undefined, "body-limit");
  if (bodyLimit !== undefined) options.bodyLimitBytes = bodyLimit;
  const idle = integer(values["idle-timeout"] as string | undefined, "idle-timeout");
  if (idle !== undefined) options.idleTimeoutMs = idle;
  const durability = values.durability as string | undefined;
  if (durability !== undefined) {
    const level = Durability.safeParse(durability);
    if (!level.success)
      throw new UsageError(`--durability must be written, synced or none, got "${durability}"`);
    options.durability = level.data;
  }
  options.log = (line) => process.stderr.write(`orbiter-gateway: ${line}\n`);
  if (values.verbose) options.logRequests = true;
  checkFlags(options);
  return options;
}

/**
 * Runs the `orbiter-gateway` command until SIGINT or SIGTERM; resolves with the exit code (0 after a clean
 * shutdown, 2 for a usage error, 1 when the gateway could not start or close).
 */
export async function runCli(argv: ReadonlyArray<string>): Promise<number> {
  let options: GatewayOptions | undefined;
  try {
    options = parseCli(argv);
  } catch (error) {
    process.stderr.write(`orbiter-gateway: ${messageOf(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    gateway = await startGateway(options);
  } catch (error) {
    const message = OrbiterError.isInstance(error) || error instanceof Error ? error.message : String(error);
    process.stderr.write(`orbiter-gateway: could not start: ${message}\n`);
    return 1;
  }
  process.stdout.write(`listening on ${gateway.url}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  process.stderr.write(`orbiter-gateway: ${signal}, closing\n`);
  try {
    await gateway.close();
    return 0;
  } catch (error) {
    process.stderr.write(`orbiter-gateway: close failed: ${messageOf(error)}\n`);
    return 1;
  }
}
