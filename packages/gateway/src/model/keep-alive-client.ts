import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type RequestOptions,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { UpstreamCall } from "./upstream-call.js";

/**
 * A small HTTP(S) client over Node's own `http` module with a keep-alive connection pool, for the gateway's
 * upstream calls. It does per call a fraction of the work of `fetch` (no WHATWG request, response and streams
 * objects, no URL parsed per call, no AbortSignal wired into each request), which matters on a path that adds
 * to every model call.
 */
export class KeepAliveClient {
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  /** Where requests go: protocol, host and port, parsed once. */
  readonly #target: RequestOptions;
  /** The base URL's path, without a trailing slash; request paths are appended to it. */
  readonly #prefix: string;

  /** @param baseURL - `http:` or `https:` URL that request paths are appended to. */
  constructor(baseURL: string) {
    const base = new URL(baseURL);
    const secure = base.protocol === "https:";
    this.#agent = secure
      ? new HttpsAgent({ keepAlive: true, maxSockets: 256 })
      : new HttpAgent({ keepAlive: true, maxSockets: 256 });
    this.#request = secure ? httpsRequest : httpRequest;
    // An IPv6 literal comes bracketed in URL.hostname; the request options take it bare.
    const hostname = base.hostname.replace(/^\[(.*)\]$/, "$1");
    this.#target = {
      protocol: base.protocol,
      hostname,
      ...(base.port === "" ? {} : { port: Number(base.port) }),
    };
    if (base.username !== "" || base.password !== "") {
      this.#target.auth = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`;
    }
    this.#prefix = base.pathname.replace(/\/+$/, "");
  }

  /**
   * Sends a request and resolves with the response once its headers are in (its body is then read from the
   * returned stream). Stopping `call` destroys the request; the promise (or the body stream) rejects.
   */
  send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    call: UpstreamCall,
  ): Promise<IncomingMessage> {
    const allHeaders: OutgoingHttpHeaders =
      body === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(body) };
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = this.#request(
        { ...this.#target, method, path: this.#prefix + path, headers: allHeaders, agent: this.#agent },
        resolve,
      );
      request.on("error", reject);
      call.onStop((reason) => request.destroy(reason));
      request.end(body);
    });
  }

  /** Reads a whole response body as UTF-8 text; rejects when the response breaks off. */
  static text(response: IncomingMessage): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.once("end", () => {
        const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        resolve(bytes.toString("utf8"));
      });
      response.once("error", reject);
      response.once("close", () => {
        if (!response.complete) reject(new Error("the upstream response broke off"));
      });
    });
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#agent.destroy();
  }
}
