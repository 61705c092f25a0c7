import { AssistantMessage, type ChatCompletionResult, FinishReason, formatPath } from "@orbiter/types";
import { notePlainMessages, wereNotedPlain } from "../recording/checked-messages.js";
import { isPlainChatMessage } from "../recording/plain-checks.js";

const FINISH_REASONS: ReadonlySet<unknown> = new Set(FinishReason.options);

/**
 * Checks what a `ChatModel` returned before it is served or recorded: at least one choice, each with a valid
 * assistant message and finish reason. Throws an `Error` naming the first problem. A message accepted as it is
 * is noted as checked (see `checked-messages.ts`).
 */
export function checkResult(result: ChatCompletionResult): ChatCompletionResult {
  if (
    typeof result !== "object" ||
    result === null ||
    !Array.isArray(result.choices) ||
    result.choices.length === 0
  ) {
    throw new Error("the model returned no choices");
  }
  for (const [position, choice] of result.choices.entries()) {
    // A message the schema accepts as it is (the common case) is checked without zod (see plain-checks.ts), once
    // (a whole result streamed by completeAsStream comes here twice), and noted so that recording the call does
    // not check it again.
    const message = choice.message;
    if (message?.role === "assistant" && (wereNotedPlain(message) || isPlainChatMessage(message))) {
      notePlainMessages(message);
    } else {
      const parsed = AssistantMessage.safeParse(message);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(
          `the model returned an invalid message at choices[${position}].message${issue?.path.length ? `.${formatPath(issue.path)}` : ""}: ${issue?.message}`,
        );
      }
    }
    if (!FINISH_REASONS.has(choice.finishReason)) {
      throw new Error(
        `the model returned an invalid finish reason at choices[${position}]: ${String(choice.finishReason)}`,
      );
    }
  }
  return result;
}
