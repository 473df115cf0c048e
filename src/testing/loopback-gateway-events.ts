import type { IncomingHttpHeaders } from 'node:http';
import type { InteractionResponse } from './interaction-store.js';
import type { JsonObject, JsonValue } from './json-value.js';
import type { RestFile } from './rest-router.js';

/** Names of the events {@link LoopbackGateway} emits. */
export const LoopbackGatewayEvent = {
	/** The bot POSTed a message: {@link SentMessage}. */
	Message: 'message',
	/** A client sent IDENTIFY and got READY: {@link IdentifyEvent}. */
	Identify: 'identify',
	/** A client sent RESUME, accepted or not: {@link ResumeEvent}. */
	Resume: 'resume',
	/** A client heartbeat arrived: {@link HeartbeatEvent}. */
	Heartbeat: 'heartbeat',
	/** A gateway socket opened: {@link ConnectionEvent}. */
	Connection: 'connection',
	/** A gateway socket closed: {@link CloseEvent}. */
	Close: 'close',
	/** A REST request matched no route: {@link RestRequestRecord}. */
	Unhandled: 'unhandled',
	/** A REST request was answered (any route, any status): {@link RestRequestRecord}. */
	RestRequest: 'restRequest',
	/** The bot answered an interaction (callback, follow-up or edit): {@link InteractionResponse}. */
	InteractionResponse: 'interactionResponse',
} as const;
/** One of the {@link LoopbackGatewayEvent} names. */
export type LoopbackGatewayEvent = (typeof LoopbackGatewayEvent)[keyof typeof LoopbackGatewayEvent];

/** A message the bot sent with `POST /channels/:id/messages`. */
export interface SentMessage {
	/** The id the gateway gave the message. */
	readonly id: string;
	readonly channelId: string;
	/** The channel's guild, `null` outside guilds. */
	readonly guildId: string | null;
	/** `content` of the payload, `''` when there was none. */
	readonly content: string;
	/** `embeds` of the payload, `[]` when there were none. */
	readonly embeds: readonly JsonObject[];
	/** Files of a multipart upload. */
	readonly files: readonly RestFile[];
	/** The JSON body (or `payload_json`) exactly as the client sent it. */
	readonly payload: JsonObject;
	/** The message object the gateway answered with (and echoed as MESSAGE_CREATE). */
	readonly message: JsonObject;
	readonly receivedAt: Date;
}

/** A REST request and how the gateway answered it. */
export interface RestRequestRecord {
	/** Upper-case method. */
	readonly method: string;
	/** The normalised path: no `/api/vN` prefix, no query. */
	readonly path: string;
	/** The raw request URL, query included. */
	readonly url: string;
	readonly query: URLSearchParams;
	readonly headers: IncomingHttpHeaders;
	/** The parsed JSON body (or `payload_json`), `null` when there was none. */
	readonly body: JsonValue | null;
	readonly files: readonly RestFile[];
	/** The pattern of the route that answered, `null` when none matched or the request was refused before routing. */
	readonly route: string | null;
	/** The status the gateway answered with. */
	readonly status: number;
	/** Whether the answer came from {@link LoopbackGateway.failRest}. */
	readonly injected: boolean;
	/** What a route handler threw (the request was answered with 500). */
	readonly error?: unknown;
	readonly receivedAt: Date;
}

/** An accepted IDENTIFY. */
export interface IdentifyEvent {
	readonly connectionId: number;
	/** The session READY opened. */
	readonly sessionId: string;
	/** `[shardId, shardCount]` from the IDENTIFY payload. */
	readonly shard: readonly [number, number];
	readonly intents: number;
	/** The IDENTIFY `d` as the client sent it (token included). */
	readonly payload: JsonObject;
}

/** A RESUME, accepted (replay + RESUMED) or rejected (op 9 `d: false`). */
export interface ResumeEvent {
	readonly connectionId: number;
	readonly sessionId: string;
	/** The sequence number the client said it had seen. */
	readonly seq: number;
	readonly accepted: boolean;
	/** How many buffered dispatches were replayed before RESUMED. */
	readonly replayed: number;
}

/** A client heartbeat (op 1). */
export interface HeartbeatEvent {
	readonly connectionId: number;
	/** The sequence number the client sent. */
	readonly seq: number | null;
	/** Whether it was acknowledged with op 11; `false` in zombie mode. */
	readonly acked: boolean;
}

/** A new gateway socket. */
export interface ConnectionEvent {
	readonly connectionId: number;
	/** The request URL, with its `?v=10&encoding=json` query. */
	readonly url: string;
}

/** A gateway socket that closed. */
export interface CloseEvent {
	readonly connectionId: number;
	/** The close code; 1006 when a socket was dropped without a close frame. */
	readonly code: number;
	readonly reason: string;
	/** Who started the close: the gateway (a test method) or the client. */
	readonly initiatedBy: 'client' | 'server';
	/** The session the socket carried, if it had identified or resumed. */
	readonly sessionId: string | null;
}

/** Running totals since the gateway was created. */
export interface LoopbackGatewayCounters {
	/** Gateway sockets opened. */
	readonly connections: number;
	/** IDENTIFY payloads accepted (each opens a session). */
	readonly identifies: number;
	/** RESUME payloads received, accepted or not. */
	readonly resumes: number;
	/** Heartbeats received. */
	readonly heartbeats: number;
	/** Heartbeats acknowledged with op 11. */
	readonly heartbeatAcks: number;
	/** Dispatch frames (op 0) written to sockets, replays included. */
	readonly dispatches: number;
	/** REST requests received. */
	readonly restRequests: number;
	/** Messages created: POSTed by the bot or injected by a test. */
	readonly messagesCreated: number;
	/** Interactions injected with `injectInteraction()`. */
	readonly interactionsCreated: number;
	/** The bot's answers to interactions: callbacks, follow-ups and edits. */
	readonly interactionResponses: number;
}

/** The events of {@link LoopbackGateway} and their listener arguments. */
export interface LoopbackGatewayEventMap {
	message: [message: SentMessage];
	identify: [event: IdentifyEvent];
	resume: [event: ResumeEvent];
	heartbeat: [event: HeartbeatEvent];
	connection: [event: ConnectionEvent];
	close: [event: CloseEvent];
	unhandled: [request: RestRequestRecord];
	restRequest: [request: RestRequestRecord];
	interactionResponse: [response: InteractionResponse];
}
