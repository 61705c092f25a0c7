/** The exports of the package's SIMD module (pointers are byte addresses, sizes element counts). */
export interface SimdExports {
  gelu(x: number, out: number, count: number): void;
  geluGrad(x: number, dy: number, out: number, count: number): void;
  weightGrad(x: number, dy: number, out: number, bias: number, n: number, k: number, m: number): void;
  columnSums(x: number, out: number, n: number, m: number): void;
  matmul(
    a: number,
    b: number,
    bias: number,
    out: number,
    n: number,
    k: number,
    m: number,
    residual: number,
  ): void;
  layerNorm(
    x: number,
    gain: number,
    bias: number,
    out: number,
    xHat: number,
    rstd: number,
    n: number,
    d: number,
    invD: number,
    epsilon: number,
  ): void;
  layerNormGrad(
    xHat: number,
    rstd: number,
    gain: number,
    dy: number,
    dx: number,
    dGain: number,
    dBias: number,
    n: number,
    d: number,
    invD: number,
  ): void;
  attention(...pointersSizesAndScale: number[]): void;
  attentionGrad(...pointersSizesAndScale: number[]): void;
  cachedAttention(...pointersSizesAndScale: number[]): void;
  adam(...pointersCountDecayFlagAndScalars: number[]): void;
  repeatRows(
    x: number,
    out: number,
    rows: number,
    slices: number,
    sliceBytes: number,
    times: number,
    targetSliceBytes: number,
  ): void;
  gatherRows(table: number, ids: number, out: number, n: number, rows: number, rowBytes: number): void;
  scatterAddRows(ids: number, dy: number, out: number, n: number, rows: number, rowBytes: number): void;
  exp(x: number, out: number, count: number): void;
}
