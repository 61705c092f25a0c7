import { BackendError, InvalidArgumentError } from "@orbiter/types";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it, vi } from "vitest";
import { availableBackends, currentBackend, initBackend } from "./init-backend.js";

describe("initBackend", () => {
  it("lists the backends that work here, cpu always among them, in order of preference", async () => {
    const present = await availableBackends();
    expect(present).toContain("cpu");
    const order = ["tensorflow", "wasm", "cpu"];
    expect([...present].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(present);
  });

  it('picks the most preferred backend present for "auto" and reports it', async () => {
    const present = await availableBackends();
    const chosen = await initBackend({ backend: "auto" });
    expect(chosen).toBe(present[0]);
    expect(currentBackend()).toBe(chosen);
    expect(tf.getBackend()).toBe(chosen);
  });

  it("switches to a named backend, or fails with BackendError when it is absent", async () => {
    const present = await availableBackends();
    for (const name of ["tensorflow", "wasm", "cpu"] as const) {
      if (present.includes(name)) {
        await expect(initBackend({ backend: name })).resolves.toBe(name);
      } else {
        await expect(initBackend({ backend: name })).rejects.toThrow(BackendError);
      }
    }
  });

  it("rejects an unknown backend name, naming the field", async () => {
    await expect(initBackend({ backend: "webgpu" as never })).rejects.toThrow(InvalidArgumentError);
    await expect(initBackend({ backend: "webgpu" as never })).rejects.toMatchObject({ field: "backend" });
  });

  it("keeps tfjs's one-time 'install our node backend' banner of the cpu backend quiet, and only that", async () => {
    const factory = tf.findBackendFactory("cpu");
    if (factory === null) throw new Error("tfjs has no cpu backend");
    // A fresh cpu backend, whose first tensor would print the banner.
    tf.removeBackend("cpu");
    tf.registerBackend("cpu", factory, 1);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      await initBackend({ backend: "cpu" });
      tf.tensor1d([1, 2, 3]).dispose();
      expect(warn).not.toHaveBeenCalled();
      // A genuine tfjs warning still gets through.
      tf.registerBackend("cpu", factory, 1);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain("already registered");
    } finally {
      warn.mockRestore();
    }
  });
});
