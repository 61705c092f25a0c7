import { Locals } from "./simd-code-helpers.js";
import { I32, WasmCode, type WasmFunction } from "./wasm-code.js";

/*
 * The embedding kernels' bodies: rows of a table gathered at int32 ids, and the gradient, rows added at the ids.
 * An id outside the table (unsigned compare: negatives too) reads as a row of zeros and receives nothing.
 */

/**
 * `gatherRows(table, ids, out, n, rows, rowBytes)`: `out[i] = table[ids[i]]` (zeros for an id outside the table;
 * rowBytes a multiple of 16).
 */
export function gatherRowsFunction(): WasmFunction {
  const [tablePtr, idsPtr, outPtr, n, rows, rowBytes] = [0, 1, 2, 3, 4, 5];
  const locals = new Locals(6);
  const int = () => locals.add(I32);
  const [i, end, id, target, source, p] = [int(), int(), int(), int(), int(), int()];
  const code = new WasmCode();
  code.get(n).i32(2).shl().set(end);
  code.get(outPtr).set(target);
  code.loop(i, end, 4, (row) => {
    row.get(idsPtr).get(i).add().loadI32().set(id);
    row
      .get(id)
      .get(rows)
      .ltU()
      .when((inside) => {
        // A copy in vectors: V8 calls out of line for every memory.copy, which costs more at ~0.5 KiB.
        inside.get(tablePtr).get(id).get(rowBytes).mul().add().set(source);
        inside.i32(0).set(p);
        inside.loop(p, rowBytes, 16, (lane) => {
          lane.get(target).get(p).add().get(source).get(p).add().load().store();
        });
      });
    row
      .get(id)
      .get(rows)
      .ltU()
      .eqz()
      .when((outside) => {
        outside.get(target).i32(0).get(rowBytes).memoryFill();
      });
    row.get(target).get(rowBytes).add().set(target);
  });
  return { name: "gatherRows", params: [I32, I32, I32, I32, I32, I32], locals: locals.types, code };
}

/**
 * `scatterAddRows(ids, dy, out, n, rows, rowBytes)`: `out [rows, ·]` zeroed, then `out[ids[i]] += dy[i]` for i in
 * order (rowBytes a multiple of 16).
 */
export function scatterAddRowsFunction(): WasmFunction {
  const [idsPtr, dyPtr, outPtr, n, rows, rowBytes] = [0, 1, 2, 3, 4, 5];
  const locals = new Locals(6);
  const int = () => locals.add(I32);
  const [i, end, id, source, target, p] = [int(), int(), int(), int(), int(), int()];
  const code = new WasmCode();
  code.get(outPtr).i32(0).get(rows).get(rowBytes).mul().memoryFill();
  code.get(n).i32(2).shl().set(end);
  code.get(dyPtr).set(source);
  code.loop(i, end, 4, (row) => {
    row.get(idsPtr).get(i).add().loadI32().set(id);
    row
      .get(id)
      .get(rows)
      .ltU()
      .when((inside) => {
        inside.get(outPtr).get(id).get(rowBytes).mul().add().set(target);
        inside.i32(0).set(p);
        inside.loop(p, rowBytes, 16, (lane) => {
          lane.get(target).get(p).add();
          lane.get(target).get(p).add().load().get(source).get(p).add().load().vadd();
          lane.store();
        });
      });
    row.get(source).get(rowBytes).add().set(source);
  });
  return { name: "scatterAddRows", params: [I32, I32, I32, I32, I32, I32], locals: locals.types, code };
}
