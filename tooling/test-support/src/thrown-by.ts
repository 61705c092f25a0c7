/**
 * What `fn` throws, for a test to look at.
 *
 * @throws Error when `fn` returns instead, which fails the test
 * @example
 * ```ts
 * const error = thrownBy(() => new EvolutionPipeline({ config: { epochs: 0 }, strategy }));
 * expect(InvalidArgumentError.isInstance(error) && error.field).toBe("config.epochs");
 * ```
 */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an exception, but the call returned");
}

/**
 * What `promise` rejects with, for a test to look at.
 *
 * @throws Error when `promise` resolves instead, which fails the test
 */
export async function captureError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, but the promise resolved");
}
