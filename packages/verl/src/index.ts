// Public API of @orbiter/verl. Two sections: tensors & policy (part 1) and algorithms & trainer (part 2).
// Keep each export in its own section; edit with small, targeted changes. The blank line after each section
// marker keeps Biome's import sorting inside the section.

// --- part 1: backends, tokenizers, policy, rollout, checkpoints, supervised fine-tuning ---

export {
  availableBackends,
  type BackendName,
  type BackendRequest,
  currentBackend,
  type InitBackendOptions,
  initBackend,
} from "./backend/init-backend.js";
export { registerFastGradients } from "./backend/register-fast-gradients.js";
export {
  type ChatGenerator,
  type ChatOptions,
  ChatPolicy,
  type ChatPolicyCounters,
  type ChatPolicyOptions,
  type ChatResult,
  type ChatSamplingOverride,
  type ChatTurn,
} from "./chat/chat-policy.js";
export {
  CHAT_ALPHABET,
  CHAT_MARKERS,
  chatTokenizer,
  contentText,
  encodeChat,
  encodeMessages,
  escapeChatText,
  isChatMarker,
  type RenderChatOptions,
  renderChat,
  renderMessage,
} from "./chat/chat-template.js";
export {
  type ParseAssistantOutputOptions,
  type ParsedAssistantOutput,
  parseAssistantOutput,
  parseChat,
} from "./chat/parse-assistant-output.js";
export { PolicyChatModel } from "./chat/policy-chat-model.js";
export type { HostTensor } from "./checkpoint/host-tensor.js";
export {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsContent,
  type SafetensorsDtype,
  type SafetensorsTensor,
} from "./checkpoint/safetensors.js";
export {
  relaxedSimdAvailable,
  setWasmFma,
  WASM_FMA_ENV,
  WasmFmaMode,
  wasmFmaActive,
} from "./internal/wasm-fma.js";
export type { NamedParameter } from "./model/named-parameter.js";
export type {
  CloneOptions,
  ForwardInput,
  ForwardOutput,
  LogProbsInput,
  LogProbsOutput,
  Policy,
} from "./model/policy.js";
export {
  type ResolvedTransformerConfig,
  TransformerConfig,
  type TransformerConfigInput,
} from "./model/transformer-config.js";
export { TransformerPolicy, type TransformerPolicyOptions } from "./model/transformer-policy.js";
export { AdamOptimizer, AdamOptions, type AdamOptionsInput, type AdamState } from "./optim/adam-optimizer.js";
export { clipByGlobalNorm } from "./optim/clip-by-global-norm.js";
export {
  GenerateOptions,
  type GenerateOptionsInput,
  type GenerationResult,
} from "./rollout/generate-options.js";
export {
  type DecoderStep,
  type HostEmbeddings,
  type IncrementalDecoder,
  KvCache,
  type LayerCache,
} from "./rollout/kv-cache.js";
export { type SamplingFilter, sampleToken } from "./rollout/sample-token.js";
export {
  type Conversation,
  type ConversationItem,
  conversationsFromItems,
  type EpisodeSftInput,
  type EpisodeSftResult,
  supervisedFineTuneEpisodes,
} from "./sft/episode-fine-tune.js";
export {
  type SftEpochMetrics,
  SftOptions,
  type SftOptionsInput,
  type SftResult,
  type SftStepMetrics,
  supervisedFineTune,
} from "./sft/supervised-fine-tune.js";
export { ByteTokenizer } from "./tokenizer/byte-tokenizer.js";
export { CHAR_TOKENIZER_SPECIALS, CharTokenizer } from "./tokenizer/char-tokenizer.js";
export type { DecodeOptions, EncodeOptions, Tokenizer, TokenizerJson } from "./tokenizer/tokenizer.js";
export { tokenizerFromJSON } from "./tokenizer/tokenizer-from-json.js";
export {
  type LoadedCheckpoint,
  loadCheckpoint,
  type SaveCheckpointOptions,
  saveCheckpoint,
} from "./trainer/training-checkpoint.js";

// --- part 2: config, rewards, advantages, losses, KL, VeRLTrainer ---

export {
  type AgentEpisode,
  type EpisodeCall,
  EpisodeStatus,
  episodeMessages,
} from "./agent/agent-episode.js";
export { AgentOptions, type AgentOptionsInput } from "./agent/agent-options.js";
export type { AgentContext, AgentFunction, RolloutGateway } from "./agent/agent-rollout.js";
export type { ServeModel } from "./agent/agent-runner.js";
export { type EvaluateAgentInput, evaluateAgent } from "./agent/evaluate-agent.js";
export { serveWithGateway } from "./agent/serve-with-gateway.js";
export {
  AdaptiveKlController,
  type AdaptiveKlControllerOptions,
  FixedKlController,
  type KlController,
} from "./algorithms/adaptive-kl-controller.js";
export { entropyFromLogits } from "./algorithms/entropy.js";
export { explainedVariance } from "./algorithms/explained-variance.js";
export {
  computeGaeAdvantage,
  type GaeAdvantageInput,
  type GaeAdvantageOutput,
} from "./algorithms/gae-advantage.js";
export {
  AdvantageScaling,
  broadcastToTokens,
  computeGroupAdvantage,
  computeRlooAdvantage,
  type GroupAdvantageInput,
} from "./algorithms/group-advantage.js";
export { type EstimateKlOptions, estimateKl, KlEstimator } from "./algorithms/kl-estimators.js";
export { type AggregateLossOptions, aggregateLoss, LossAggregation } from "./algorithms/loss-aggregation.js";
export {
  type MaskedWhitenOptions,
  maskedMean,
  maskedVariance,
  maskedWhiten,
} from "./algorithms/masked-statistics.js";
export { type SoftOverlongPenaltyOptions, softOverlongPenalty } from "./algorithms/overlong-penalty.js";
export {
  type ClippedSurrogate,
  clippedSurrogate,
  computePolicyLoss,
  type PolicyLoss,
  type PolicyLossInput,
} from "./algorithms/policy-loss.js";
export {
  computeReinforcePlusPlusAdvantage,
  computeReinforcePlusPlusBaselineAdvantage,
  type ReinforcePlusPlusInput,
  type ReinforcePlusPlusOutput,
} from "./algorithms/reinforce-plus-plus-advantage.js";
export { computeTokenLevelRewards, type TokenLevelRewardsInput } from "./algorithms/token-level-rewards.js";
export { computeValueLoss, type ValueLoss, type ValueLossInput } from "./algorithms/value-loss.js";
export { type AdvantageScaleSetting, resolveAdvantageScale } from "./config/advantage-scale.js";
export { CriticMode, type ResolvedCriticMode, resolveCriticMode } from "./config/critic-mode.js";
export { AdvantageEstimator, KlPlacement, VeRLAlgorithm } from "./config/verl-algorithm.js";
export {
  AdaptiveKlConfig,
  ALGORITHM_DEFAULTS,
  VeRLConfig,
  type VeRLConfigInput,
} from "./config/verl-config.js";
export { normalizeThenSum } from "./rewards/normalize-then-sum.js";
export { OnRewardError, RewardCombination } from "./rewards/reward-combination.js";
export {
  parseRewardSpecs,
  type RewardContext,
  type RewardFunction,
  RewardSpec,
  type RewardSpecInput,
} from "./rewards/reward-spec.js";
export {
  type RewardScores,
  type ScoredResponse,
  type ScoreRewardsOptions,
  scoreRewards,
} from "./rewards/score-rewards.js";
export type { SampleProvider, VeRLDatasetInput } from "./trainer/dataset-input.js";
export {
  type EvaluateOptions,
  type EvaluatePolicyInput,
  evaluatePolicy,
  type PolicyEvaluation,
} from "./trainer/evaluate-policy.js";
export { VeRLTrainer } from "./trainer/verl-trainer.js";
export type { VeRLStepEvent, VeRLTrainerOptions } from "./trainer/verl-trainer-options.js";
