import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * A small HTTP(S) client over Node's own `http` module with a keep-alive connection pool, for the gateway's
 * upstream calls. It does per call a fraction of the work of `fetch` (no WHATWG request, response and streams
 * objects), which matters on a path that adds to every model call.
 */
export class KeepAliveClient {
  readonly #base: URL;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;

  /** @param baseURL - `http:` or `https:` URL that request paths are appended to. */
  constructor(baseURL: string) {
    this.#base = new URL(baseURL);
    const secure = this.#base.protocol === "https:";
    this.#agent = secure
      ? new HttpsAgent({ keepAlive: true, maxSockets: 256 })
      : new HttpAgent({ keepAlive: true, maxSockets: 256 });
    this.#request = secure ? httpsRequest : httpRequest;
  }

  /**
   * Sends a request and resolves with the response once its headers are in (its body is then read from the
   * returned stream). Aborting `signal` destroys the request; the promise (or the body stream) rejects.
   */
  send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const url = new URL(`${this.#base.pathname.replace(/\/+$/, "")}${path}`, this.#base);
    const allHeaders =
      body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) };
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = this.#request(
        url,
        { method, headers: allHeaders, agent: this.#agent, signal },
        resolve,
      );
      request.on("error", reject);
      request.end(body);
    });
  }

  /** Reads a whole response body as UTF-8 text. */
  static async text(response: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#agent.destroy();
  }
}
