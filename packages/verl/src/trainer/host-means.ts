/** Mean of `values`; 0 when there is none. */
export function mean(values: ReadonlyArray<number>): number {
  if (values.length === 0) return 0;
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Mean of the finite values (a step without an update has a NaN loss); NaN when there is none. */
export function finiteMean(values: ReadonlyArray<number>): number {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? Number.NaN : mean(finite);
}
