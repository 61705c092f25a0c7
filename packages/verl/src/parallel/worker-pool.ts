import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { BackendError } from "@orbiter/types";
import type { ReplyTo, RequestBody, SyncFlags, WorkerInit, WorkerReply } from "./worker-protocol.js";

interface Pending {
  resolve: (reply: WorkerReply) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  exited: boolean;
}

/**
 * How to start the worker entry: the built `policy-worker.js` next to this module, or, when running from the
 * TypeScript sources (tests, `tsx`), the `.ts` entry loaded through tsx with the `@orbiter/source` condition.
 */
function workerEntry(): { entry: URL | string; eval: boolean; execArgv: string[] } {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return { entry: new URL("./policy-worker.js", here), eval: false, execArgv: [] };
  const source = new URL("./policy-worker.ts", here).href;
  // tsx's ES-module API (its CommonJS build of the same entry cannot load in a worker).
  const manifestPath = createRequire(here).resolve("tsx/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const api = manifest.exports["./esm/api"]?.import.default ?? "./dist/esm/api/index.mjs";
  const tsx = new URL(api, pathToFileURL(manifestPath)).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(source)}); });`;
  return { entry: boot, eval: true, execArgv: ["--conditions=@orbiter/source"] };
}

/**
 * Worker threads, each running `policy-worker` (a policy replica on its own backend), with request/reply
 * bookkeeping. A worker that throws fails its request with a {@link BackendError} carrying the worker's message;
 * a worker that exits or crashes fails every pending and later request (the pool is then broken and must be
 * disposed). Idle workers do not keep the process alive; `dispose()` terminates them all.
 */
export class WorkerPool {
  /** Milliseconds it took to start every worker (spawn, backend, replicas), paid once. */
  readonly startupMs: number;
  private readonly threads: Thread[];
  private nextId = 1;
  private failure: BackendError | null = null;
  private disposed = false;

  private constructor(threads: Thread[], startupMs: number) {
    this.threads = threads;
    this.startupMs = startupMs;
    threads.forEach((thread, i) => {
      this.watch(thread, i + 1);
    });
  }

  /** Starts one worker per `inits` entry and waits until each has built its replicas. */
  static async start(inits: WorkerInit[]): Promise<WorkerPool> {
    const started = performance.now();
    const { entry, eval: isEval, execArgv } = workerEntry();
    const threads: Thread[] = inits.map((workerData) => ({
      worker: new Worker(entry, { eval: isEval, execArgv, workerData, stdout: false, stderr: false }),
      pending: new Map(),
      exited: false,
    }));
    try {
      await Promise.all(
        threads.map(
          ({ worker }, i) =>
            new Promise<void>((resolve, reject) => {
              const fail = (error: Error) =>
                reject(
                  new BackendError(`Policy worker ${i + 1} failed to start: ${error.message}`, {
                    cause: error,
                  }),
                );
              worker.once("error", fail);
              worker.once("exit", (code) => fail(new Error(`it exited with code ${code}`)));
              worker.once("message", (message: WorkerReply) => {
                worker.removeAllListeners("error");
                worker.removeAllListeners("exit");
                if (message.type === "ready") resolve();
                else fail(new Error(`unexpected first message ${message.type}`));
              });
            }),
        ),
      );
    } catch (error) {
      await Promise.all(threads.map(({ worker }) => worker.terminate()));
      throw error;
    }
    for (const { worker } of threads) worker.unref();
    return new WorkerPool(threads, performance.now() - started);
  }

  /** Number of worker threads. */
  get size(): number {
    return this.threads.length;
  }

  /** Worker threads that have not exited yet. */
  get running(): number {
    return this.threads.filter((thread) => !thread.exited).length;
  }

  /** Sends `body` to worker `index` (1-based: participant numbers) and resolves to its reply. */
  request<B extends RequestBody>(index: number, body: B, sync: SyncFlags): Promise<ReplyTo<B["type"]>> {
    if (this.disposed) return Promise.reject(new BackendError("The policy workers have been disposed"));
    if (this.failure !== null) return Promise.reject(this.failure);
    const thread = this.threads[index - 1];
    if (thread === undefined) return Promise.reject(new BackendError(`No policy worker ${index}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve: resolve as (reply: WorkerReply) => void, reject });
      thread.worker.ref();
      thread.worker.postMessage({ ...body, id, sync });
    });
  }

  /** Terminates every worker (pending requests fail). Safe to call more than once. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const error = new BackendError("The policy workers were disposed while a request was pending");
    await Promise.all(
      this.threads.map(({ worker, pending }) => {
        for (const { reject } of pending.values()) reject(error);
        pending.clear();
        return worker.terminate();
      }),
    );
  }

  private watch(thread: Thread, index: number): void {
    const { worker, pending } = thread;
    const settle = () => {
      if (pending.size === 0) worker.unref();
    };
    worker.on("message", (reply: WorkerReply) => {
      if (reply.type === "ready") return;
      const waiting = pending.get(reply.id);
      if (waiting === undefined) return;
      pending.delete(reply.id);
      settle();
      if (reply.type === "error") {
        const detail = reply.error.code ? `${reply.error.name} (${reply.error.code})` : reply.error.name;
        waiting.reject(
          new BackendError(`Policy worker ${index} failed: ${detail}: ${reply.error.message}`, {
            cause: reply.error,
          }),
        );
      } else {
        waiting.resolve(reply);
      }
    });
    const broken = (error: BackendError) => {
      if (this.disposed) return;
      const first = this.failure === null;
      this.failure ??= error;
      for (const { reject } of pending.values()) reject(this.failure);
      pending.clear();
      settle();
      // The pool cannot work without this worker: end the others now rather than leave them idle.
      if (first) {
        for (const other of this.threads) {
          if (other !== thread) {
            for (const { reject } of other.pending.values()) reject(this.failure);
            other.pending.clear();
            void other.worker.terminate();
          }
        }
      }
    };
    worker.on("error", (error) =>
      broken(new BackendError(`Policy worker ${index} crashed: ${error.message}`, { cause: error })),
    );
    worker.on("messageerror", (error) =>
      broken(new BackendError(`Policy worker ${index} sent an unreadable message`, { cause: error })),
    );
    worker.on("exit", (code) => {
      thread.exited = true;
      broken(new BackendError(`Policy worker ${index} exited with code ${code}`));
    });
  }
}
