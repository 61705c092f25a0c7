/**
 * The message of anything thrown: an `Error`'s `message`, otherwise the value as a string (code may throw
 * strings or other values).
 *
 * @example
 * ```ts
 * try { await step() } catch (error) { console.error(`step failed: ${messageOf(error)}`) }
 * ```
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
