/**
 * A server process of the gateway benchmark: `serve.ts stub` runs the local stub upstream, `serve.ts gateway
 * <upstream> <out> [written|synced|none]` runs the gateway in front of it, recording to <out> at that durability
 * level (default: the gateway's default). Prints its URL as one JSON line; on an
 * IPC "stats" message it collects garbage (when run with --expose-gc) and answers with its CPU time and memory.
 */
import { Durability, startGateway } from "../src/index.js";
import { startStubUpstream } from "../src/test-support/stub-upstream.js";

const [role, upstream, out, mode] = process.argv.slice(2);
let url: string;
let close: () => Promise<void>;
if (role === "stub") {
  const stub = await startStubUpstream(
    () => ({ kind: "message", content: "A small answer of a few tokens." }),
    { record: false },
  );
  url = stub.baseURL;
  close = () => stub.close();
} else {
  const gateway = await startGateway({
    upstream: { baseURL: upstream as string },
    out: out as string,
    ...(mode === undefined ? {} : { durability: Durability.parse(mode) }),
  });
  url = `${gateway.url}/v1`;
  close = () => gateway.close();
}

const gc = (globalThis as { gc?: () => void }).gc;
process.on("message", (message: string) => {
  if (message === "stats" || message === "cpu") {
    if (message === "stats") {
      gc?.();
      gc?.();
    }
    const cpu = process.cpuUsage();
    process.send?.({ cpuMs: (cpu.user + cpu.system) / 1000, ...process.memoryUsage() });
  } else if (message === "close") {
    void close().then(() => process.exit(0));
  }
});
// The benchmark that started this process is gone (killed, or its output closed): do not outlive it.
process.on("disconnect", () => process.exit(0));
process.stdout.write(`${JSON.stringify({ url })}\n`);
