/**
 * `discord-tasks/testing`: a loopback Discord gateway and REST API that the real discord.js client logs into,
 * for testing bots and their loops without Discord, and a throw-away redis-server for the cluster backend.
 */
export type {
	ChannelFixtureOptions,
	GatewayFixtures,
	GatewayFixturesOptions,
	GuildFixtureOptions,
	UserFixtureOptions,
} from './gateway-fixtures.js';
export { DEFAULT_FIXTURE_IDS } from './gateway-fixtures.js';
export type { GatewayPayload } from './gateway-opcode.js';
export { GatewayCloseCode, GatewayOpcode } from './gateway-opcode.js';
export type {
	InjectedInteraction,
	InjectInteractionOptions,
	InteractionResponse,
	InteractionResponseKind,
} from './interaction-store.js';
export type { JsonObject, JsonValue } from './json-value.js';
export type {
	InjectMessageOptions,
	LoopbackClientOptions,
	LoopbackClientOptionsOverrides,
	LoopbackGatewayAddress,
	NoopIdentifyThrottler,
	WaitForInteractionResponsesOptions,
	WaitForMessagesOptions,
} from './loopback-gateway.js';
export { LoopbackGateway } from './loopback-gateway.js';
export type {
	CloseEvent,
	ConnectionEvent,
	HeartbeatEvent,
	IdentifyEvent,
	LoopbackGatewayCounters,
	LoopbackGatewayEventMap,
	RestRequestRecord,
	ResumeEvent,
	SentMessage,
} from './loopback-gateway-events.js';
export { LoopbackGatewayEvent } from './loopback-gateway-events.js';
export type { LoopbackGatewayOptions } from './loopback-gateway-options.js';
export { DEFAULT_LOOPBACK_GATEWAY_OPTIONS } from './loopback-gateway-options.js';
export type { RedisServer, RedisServerOptions } from './redis-server.js';
export { startRedisServer } from './redis-server.js';
export type { RestFailureOptions } from './rest-failure-queue.js';
export type {
	LoopbackRestHandler,
	LoopbackRestRequest,
	LoopbackRestResponse,
	RestFile,
	RouteParams,
} from './rest-router.js';
