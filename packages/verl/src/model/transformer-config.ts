import { z } from "zod";

/**
 * Sizes of a {@link TransformerPolicy}: a decoder-only, pre-LayerNorm transformer with learned position
 * embeddings, GELU MLPs, a final LayerNorm and an untied output projection. The defaults are the reference
 * workload's policy (d = 128, 4 heads, 2 blocks, MLP 512, context 64; about 0.42 M parameters at V = 64).
 */
export const TransformerConfig = z
  .strictObject({
    /** Vocabulary size; must equal the tokenizer's. @default the tokenizer's `vocabSize` */
    vocabSize: z.number().int().min(2).optional(),
    /** Longest sequence (positions of the position embedding). @default 64 */
    contextLength: z.number().int().min(2).default(64),
    /** Width of the residual stream. @default 128 */
    dModel: z.number().int().min(1).default(128),
    /** Attention heads; must divide `dModel`. @default 4 */
    nHeads: z.number().int().min(1).default(4),
    /** Transformer blocks. @default 2 */
    nLayers: z.number().int().min(1).default(2),
    /** Hidden width of the MLP. @default 512 */
    dMlp: z.number().int().min(1).default(512),
    /**
     * Also rotate queries and keys by their positions in every attention (rotary position embeddings, RoPE): the
     * attention score of two tokens then sees their distance, which makes attending to "the token just before"
     * or "the token after the one I copied" a fixed pattern — what copying text from the context needs. The
     * learned position embedding stays. @default false
     */
    rotary: z.boolean().default(false),
    /** Add a value head (d → 1 on every position) for PPO. @default false */
    valueHead: z.boolean().default(false),
    /** Epsilon of every LayerNorm. @default 1e-5 */
    layerNormEpsilon: z.number().positive().default(1e-5),
    /** Standard deviation of the normal weight init (residual projections are scaled by 1/√(2·nLayers)). @default 0.02 */
    initStd: z.number().positive().default(0.02),
  })
  .refine((config) => config.dModel % config.nHeads === 0, {
    message: "dModel must be divisible by nHeads",
    path: ["nHeads"],
  });

/** Parsed transformer sizes. */
export type TransformerConfig = z.output<typeof TransformerConfig>;
/** What {@link TransformerPolicy} accepts: every field optional. */
export type TransformerConfigInput = z.input<typeof TransformerConfig>;

/** A transformer config with the vocabulary size resolved. */
export type ResolvedTransformerConfig = TransformerConfig & { vocabSize: number };
