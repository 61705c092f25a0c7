import { describe, expect, it } from "vitest";
import { UpstreamCall } from "./upstream-call.js";

const timeoutError = () => new Error("too slow");

describe("UpstreamCall", () => {
  it("stops what is in flight when the caller aborts, with the caller's reason", () => {
    const controller = new AbortController();
    const call = new UpstreamCall(controller.signal, 60_000, timeoutError);
    const stops: string[] = [];
    call.onStop((reason) => stops.push(reason.message));
    expect(call.stopped).toBe(false);
    controller.abort(new Error("client gone"));
    expect(stops).toEqual(["client gone"]);
    expect(call).toMatchObject({ stopped: true, timedOut: false });
    expect((call.reason as Error).message).toBe("client gone");
    call.release();
  });

  it("stops at its deadline with the timeout error, and at once what registers after", async () => {
    const call = new UpstreamCall(undefined, 10, timeoutError);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(call).toMatchObject({ stopped: true, timedOut: true });
    const stops: string[] = [];
    call.onStop((reason) => stops.push(reason.message));
    expect(stops).toEqual(["too slow"]);
    call.release();
  });

  it("starts stopped when the caller had already aborted, and a released call stops nothing", async () => {
    const aborted = new UpstreamCall(AbortSignal.abort("gone"), 60_000, timeoutError);
    expect(aborted.stopped).toBe(true);
    aborted.release();
    const controller = new AbortController();
    const call = new UpstreamCall(controller.signal, 10, timeoutError);
    let stopped = 0;
    call.onStop(() => stopped++);
    call.release();
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stopped).toBe(0);
    expect(call.stopped).toBe(false);
  });
});
