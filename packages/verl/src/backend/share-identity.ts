import * as tf from "@tensorflow/tfjs";

/** The part of the wasm backend that a data-sharing kernel touches. */
interface RefCountingBackend {
  incRef(dataId: object): void;
}

let replaced = false;

/**
 * Replaces the wasm backend's `Identity` kernel, which copies its input, with one that shares the input's data
 * (a reference count, as wasm's own `Reshape` and the cpu backend's `Identity` do). tfjs runs `Identity` for
 * every tensor it saves for a gradient — each input of each op recorded on a tape, each `save` of a custom
 * gradient — so under `tf.variableGrads` the copies added up to a few hundred per update. Tensor data is never
 * written in place (variables take a new buffer on `assign`), so a shared buffer gives the same values. Once per
 * process; later calls do nothing.
 */
export function shareIdentityOnWasm(): void {
  if (replaced || tf.getKernel("Identity", "wasm") === undefined) return;
  tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel({
    kernelName: "Identity",
    backendName: "wasm",
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      (backend as unknown as RefCountingBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
  replaced = true;
}
