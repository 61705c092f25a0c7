/**
 * What the gateway already knows about the messages of a call, so that recording it does not check them again.
 *
 * `acceptChatRequest` notes a request's message list once every message passed `isPlainChatMessage`, and
 * `checkResult` notes each answer message that passed it; `callToItem` then builds the trajectory item from
 * noted values without walking them a second time, and checks anything else (a request that took the zod path,
 * a stream cut off midway, a call read from an OpenTelemetry trace) itself. The note is tied to the object, so a
 * copy or a value from elsewhere is never trusted by mistake. The gateway changes neither a request nor an
 * answer after noting it; a `ChatModel` must not change the request it is given (it is recorded as sent).
 */
const plainMessages = new WeakSet<object>();

/** Notes that `value` (a message list, or one message) holds only messages `ChatMessage` accepts as they are. */
export function notePlainMessages(value: object): void {
  plainMessages.add(value);
}

/** Whether `value` was noted by {@link notePlainMessages}. */
export function wereNotedPlain(value: object): boolean {
  return plainMessages.has(value);
}
