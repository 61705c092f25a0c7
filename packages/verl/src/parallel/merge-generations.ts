import type { GenerationResult } from "../rollout/generate-options.js";

/**
 * Joins the rollouts of consecutive groups of prompts (each sampled on its own worker) into the rollout of all
 * of them: every part is left-padded to the widest prompt block and right-padded to the longest response, with
 * masks, log-probabilities and values 0 on the padding, as one batch would have been.
 */
export function mergeGenerations(parts: ReadonlyArray<GenerationResult>, padId: number): GenerationResult {
  const promptLength = Math.max(...parts.map((part) => part.promptLength));
  const responseLength = Math.max(...parts.map((part) => part.responseLength));
  const withValues = parts.every((part) => part.values !== undefined);
  const merged: GenerationResult = {
    batchSize: 0,
    promptLength,
    responseLength,
    promptIndex: [],
    sequences: [],
    attentionMask: [],
    responses: [],
    responseMask: [],
    logProbs: [],
    ...(withValues ? { values: [] } : {}),
    texts: [],
    finished: [],
  };
  let promptOffset = 0;
  for (const part of parts) {
    const left = promptLength - part.promptLength;
    const right = responseLength - part.responseLength;
    const widen = (row: number[], fill: number, before: number): number[] => [
      ...new Array<number>(before).fill(fill),
      ...row,
      ...new Array<number>(right).fill(fill),
    ];
    for (let row = 0; row < part.batchSize; row++) {
      merged.sequences.push(widen(part.sequences[row] as number[], padId, left));
      merged.attentionMask.push(widen(part.attentionMask[row] as number[], 0, left));
      merged.responseMask.push(widen(part.responseMask[row] as number[], 0, 0));
      merged.logProbs.push(widen(part.logProbs[row] as number[], 0, 0));
      if (merged.values !== undefined) merged.values.push(widen(part.values?.[row] as number[], 0, 0));
      merged.promptIndex.push(promptOffset + (part.promptIndex[row] as number));
    }
    merged.responses.push(...part.responses);
    merged.texts.push(...part.texts);
    merged.finished.push(...part.finished);
    merged.batchSize += part.batchSize;
    promptOffset += part.batchSize === 0 ? 0 : Math.max(...part.promptIndex) + 1;
  }
  return merged;
}
