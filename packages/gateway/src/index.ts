export {
  createGatewayClient,
  type EpisodeSummary,
  type GatewayClient,
  GatewayClientOptions,
} from "./client/gateway-client.js";
export type {
  EpisodeEndReason,
  GatewayEpisode,
  RecordedCall,
  RecordedCallStatus,
} from "./episodes/gateway-episode.js";
export { EpisodeEndedError } from "./errors/episode-ended-error.js";
export { GatewayRequestError } from "./errors/gateway-request-error.js";
export { UpstreamError, type UpstreamErrorOptions } from "./errors/upstream-error.js";
export { UpstreamChatModel, UpstreamOptions } from "./model/upstream-chat-model.js";
export { GatewayOptions } from "./options/gateway-options.js";
export { callToItem, rewardRevision } from "./recording/call-item.js";
export { Durability } from "./recording/durability.js";
export { type GatewayHandle, startGateway } from "./start-gateway.js";
