import type { HostTensor } from "../../checkpoint/host-tensor.js";

/** Names of the parameters whose values differ (any element, bit for bit) between two weight maps, sorted. */
export function changedParameters(before: Map<string, HostTensor>, after: Map<string, HostTensor>): string[] {
  return [...before]
    .filter(([name, tensor]) => {
      const other = after.get(name)?.data as Float32Array;
      return tensor.data.some((x, i) => !Object.is(x, other[i]));
    })
    .map(([name]) => name)
    .sort();
}
