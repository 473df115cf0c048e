import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { describeRange, MAX_TIMER_MS } from '../protocol/index.js';
import { CommandStore } from './command-store.js';
import { type DefaultRestRouteHost, discordError, registerDefaultRestRoutes } from './default-rest-routes.js';
import { GatewayFixtures } from './gateway-fixtures.js';
import { GatewayCloseCode, GatewayOpcode, type GatewayPayload } from './gateway-opcode.js';
import { buildInteraction } from './interaction-payload.js';
import { registerInteractionRoutes } from './interaction-routes.js';
import {
	type InjectedInteraction,
	type InjectInteractionOptions,
	type InteractionResponse,
	InteractionStore,
} from './interaction-store.js';
import { invalidOption, isSnowflake } from './invalid-option.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json-value.js';
import type {
	LoopbackGatewayCounters,
	LoopbackGatewayEventMap,
	RestRequestRecord,
	SentMessage,
} from './loopback-gateway-events.js';
import {
	bareToken,
	type LoopbackGatewayOptions,
	type ResolvedLoopbackGatewayOptions,
	resolveLoopbackGatewayOptions,
} from './loopback-gateway-options.js';
import { buildMessageObject, MessageStore } from './message-store.js';
import { type RequestBody, RequestBodyError, readRequestBody } from './read-request-body.js';
import { type RestFailureOptions, RestFailureQueue } from './rest-failure-queue.js';
import {
	type LoopbackRestHandler,
	type LoopbackRestResponse,
	normalizeRestPath,
	type RestFile,
	RestRouter,
} from './rest-router.js';
import { SnowflakeGenerator } from './snowflake-generator.js';

/** Where a started gateway listens. */
export interface LoopbackGatewayAddress {
	readonly port: number;
	/** `http://127.0.0.1:PORT/api`: discord.js's `rest.api` (it appends `/v10` itself). */
	readonly restUrl: string;
	/** `ws://127.0.0.1:PORT`: what `GET /gateway/bot` and READY's `resume_gateway_url` hand out. */
	readonly gatewayUrl: string;
}

/** Options of {@link LoopbackGateway.clientOptions}. */
export interface LoopbackClientOptionsOverrides {
	/**
	 * Keep discord.js's own identify throttler, which delays any IDENTIFY within 5 s of the previous one by
	 * 4.5–6.5 s. Leave it off unless the test is about that delay.
	 * @defaultValue `false`
	 */
	readonly throttleIdentify?: boolean;
}

/** An identify throttler that never waits (what {@link LoopbackGateway.clientOptions} installs). */
export interface NoopIdentifyThrottler {
	waitForIdentify(shardId: number, signal: AbortSignal): Promise<void>;
}

/**
 * The part of discord.js `ClientOptions` that points a client at the loopback gateway. Spread it into the
 * options: `new Client({ intents, ...gateway.clientOptions() })`.
 */
export interface LoopbackClientOptions {
	readonly rest: { readonly api: string };
	readonly ws: { readonly buildIdentifyThrottler?: () => NoopIdentifyThrottler };
}

/** A message written into a channel by someone other than the bot; see {@link LoopbackGateway.injectMessage}. */
export interface InjectMessageOptions {
	/** @defaultValue {@link LoopbackGateway.channelId} */
	readonly channelId?: string;
	readonly content: string;
	/** The author: the bot or the human fixture user. @defaultValue {@link LoopbackGateway.humanUserId} */
	readonly authorId?: string;
	/** @defaultValue `[]` */
	readonly embeds?: readonly JsonObject[];
	/** Makes the message a reply to this message id in the same channel. */
	readonly replyTo?: string;
}

/** Options of {@link LoopbackGateway.waitForInteractionResponses}. */
export interface WaitForInteractionResponsesOptions {
	/** Count only the answers to this interaction. @defaultValue any interaction */
	readonly interactionId?: string;
	/** @defaultValue `5000` */
	readonly timeoutMs?: number;
	readonly signal?: AbortSignal;
}

/** Options of {@link LoopbackGateway.waitForMessages}. */
export interface WaitForMessagesOptions {
	/** Count only messages sent to this channel. @defaultValue any channel */
	readonly channelId?: string;
	/** @defaultValue `5000` */
	readonly timeoutMs?: number;
	readonly signal?: AbortSignal;
}

interface Session {
	readonly id: string;
	readonly token: string;
	readonly shard: readonly [number, number];
	seq: number;
	/** Dispatches a RESUME may replay (READY and RESUMED are never replayed). */
	readonly buffer: GatewayPayload[];
	connection: Connection | null;
}

interface Connection {
	readonly id: number;
	readonly socket: WebSocket;
	readonly url: string;
	session: Session | null;
	closedByServer: boolean;
}

type MutableCounters = { -readonly [Key in keyof LoopbackGatewayCounters]: number };

/** How many dispatches a session keeps for replay; a RESUME from further back is refused (op 9). */
const REPLAY_BUFFER_SIZE = 1000;
/** Discord's API version; the only one this gateway speaks. */
const API_VERSION = 10;
/** Close reasons are limited to 123 bytes by RFC 6455. */
const MAX_CLOSE_REASON_BYTES = 123;
const DEFAULT_WAIT_TIMEOUT_MS = 5000;

function isValidCloseCode(code: number): boolean {
	// The codes `ws` lets an endpoint send (RFC 6455 §7.4): 1004–1006 and 1015 are reserved for local use.
	return (
		Number.isSafeInteger(code) &&
		((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
			(code >= 3000 && code <= 4999))
	);
}

function rawDataToString(data: RawData): string {
	if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
	if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
	return data.toString('utf8');
}

function shardOwnsGuild(shard: readonly [number, number], guildId: string): boolean {
	// Discord's sharding formula: (guild_id >> 22) % shard_count.
	return (BigInt(guildId) >> 22n) % BigInt(shard[1]) === BigInt(shard[0]);
}

/**
 * Why a connect URL is refused, or `null`. Only `?v=10&encoding=json` without compression is spoken; anything
 * else would leave the client waiting for frames it cannot parse, so the socket is closed with 4012, a code
 * discord.js treats as fatal (`shardDisconnect`), and a reason that says what to change.
 */
function protocolRefusal(url: string): string | null {
	const query = new URL(url, 'ws://127.0.0.1').searchParams;
	if (query.get('compress') !== null) {
		return 'LoopbackGateway does not speak zlib-stream; remove zlib-sync or disable compression';
	}
	const encoding = query.get('encoding');
	if (encoding !== null && encoding !== 'json') return `LoopbackGateway speaks encoding=json only, got ${encoding}`;
	const version = query.get('v');
	if (version !== null && version !== String(API_VERSION)) return `LoopbackGateway speaks v=10 only, got v=${version}`;
	return null;
}

/**
 * A Discord gateway and REST API on 127.0.0.1 that the unmodified discord.js client logs into, for tests.
 *
 * It serves one application (a bot user and a human user) in the fixture guilds and channels, answers the REST
 * routes bots use every day, records what the bot sends ({@link LoopbackGateway.sentMessages}), and lets a test
 * break things on purpose: drop sockets, send RECONNECT or INVALID_SESSION, close with any code, stop
 * acknowledging heartbeats, and fail REST requests with 429s and 5xxs.
 *
 * Speaks API v10 with JSON encoding only: a client that has `zlib-sync` installed asks for zlib-stream and is
 * closed with 4012 (see `docs/testing.md` for how to turn compression off).
 *
 * @example
 * ```ts
 * import { Client, Events, GatewayIntentBits } from 'discord.js';
 * import { LoopbackGateway } from 'discord-tasks/testing';
 *
 * const gateway = new LoopbackGateway();
 * await gateway.start();
 * const client = new Client({ intents: [GatewayIntentBits.Guilds], ...gateway.clientOptions() });
 * const ready = once(client, Events.ClientReady);
 * await client.login('any-token');
 * await ready;
 * const channel = await client.channels.fetch(gateway.channelId);
 * if (channel?.isSendable()) await channel.send('hello');
 * console.log(gateway.sentMessages[0]?.content); // 'hello'
 * await client.destroy();
 * await gateway.stop();
 * ```
 */
export class LoopbackGateway extends EventEmitter<LoopbackGatewayEventMap> {
	readonly #options: ResolvedLoopbackGatewayOptions;
	readonly #fixtures: GatewayFixtures;
	readonly #ids = new SnowflakeGenerator();
	readonly #router = new RestRouter();
	readonly #failures = new RestFailureQueue();
	readonly #messages = new MessageStore();
	readonly #commands = new CommandStore();
	readonly #interactions = new InteractionStore();
	readonly #connections = new Set<Connection>();
	readonly #sessions = new Map<string, Session>();
	readonly #sentMessages: SentMessage[] = [];
	readonly #requests: RestRequestRecord[] = [];
	readonly #unhandled: RestRequestRecord[] = [];
	readonly #counters: MutableCounters = {
		connections: 0,
		identifies: 0,
		resumes: 0,
		heartbeats: 0,
		heartbeatAcks: 0,
		dispatches: 0,
		restRequests: 0,
		messagesCreated: 0,
		interactionsCreated: 0,
		interactionResponses: 0,
	};
	#server: Server | null = null;
	#webSocketServer: WebSocketServer | null = null;
	#address: LoopbackGatewayAddress | null = null;
	/** The port of the first start, reused by later starts: the client caches the gateway URL. */
	#port: number;
	#isStarting = false;
	#stopping: Promise<void> | null = null;
	#isZombie = false;
	#connectionCount = 0;
	#sessionCount = 0;

	/**
	 * Builds the gateway and its fixtures; nothing listens until {@link LoopbackGateway.start}.
	 * @param options - See {@link LoopbackGatewayOptions}; every field is optional.
	 * @throws {@link InvalidOptionError} naming the option and the refused value.
	 */
	constructor(options: LoopbackGatewayOptions = {}) {
		super();
		this.#options = resolveLoopbackGatewayOptions(options);
		this.#fixtures = new GatewayFixtures(options, this.#ids);
		this.#port = this.#options.port;
		registerDefaultRestRoutes(this.#router, this.#routeHost());
		registerInteractionRoutes(this.#router, {
			fixtures: this.#fixtures,
			interactions: this.#interactions,
			nextId: () => this.#ids.next(),
			recordResponse: (response) => {
				this.#counters.interactionResponses += 1;
				this.emit('interactionResponse', response);
			},
		});
	}

	/**
	 * Starts listening on 127.0.0.1 (REST and gateway share the port). After a {@link LoopbackGateway.stop}, a
	 * new start listens on the same port as before, so a client that cached the URL finds it again.
	 * @returns The port and URLs.
	 * @throws Error when the gateway is already started, or the port cannot be bound.
	 */
	async start(): Promise<LoopbackGatewayAddress> {
		if (this.#stopping !== null) await this.#stopping;
		if (this.#server !== null || this.#isStarting) {
			throw new Error('LoopbackGateway is already started; call stop() before starting it again');
		}
		this.#isStarting = true;
		try {
			const server = createServer((request, response) => this.#onRequest(request, response));
			const webSocketServer = new WebSocketServer({ noServer: true });
			server.on('upgrade', (request: IncomingMessage, socket, head) => {
				webSocketServer.handleUpgrade(request, socket, head, (webSocket) => this.#onConnection(webSocket, request));
			});
			await new Promise<void>((resolve, reject) => {
				server.once('error', reject);
				server.listen(this.#port, '127.0.0.1', () => {
					server.off('error', reject);
					resolve();
				});
			});
			const { port } = server.address() as AddressInfo;
			this.#port = port;
			this.#server = server;
			this.#webSocketServer = webSocketServer;
			this.#address = { port, restUrl: `http://127.0.0.1:${port}/api`, gatewayUrl: `ws://127.0.0.1:${port}` };
			return this.#address;
		} finally {
			this.#isStarting = false;
		}
	}

	/**
	 * Terminates every gateway socket, closes the server and every kept-alive REST connection (undici keeps them
	 * open, which would keep the process alive), and forgets the sessions. Records, counters and fixtures stay.
	 * Idempotent. Destroy the client first, or it will try to reconnect.
	 */
	async stop(): Promise<void> {
		if (this.#stopping !== null) return this.#stopping;
		const server = this.#server;
		if (server === null) return;
		this.#stopping = (async () => {
			for (const connection of this.#connections) {
				connection.closedByServer = true;
				connection.socket.terminate();
			}
			this.#webSocketServer?.close();
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
			this.#sessions.clear();
			this.#server = null;
			this.#webSocketServer = null;
			this.#address = null;
		})().finally(() => {
			this.#stopping = null;
		});
		return this.#stopping;
	}

	/** Stops the gateway, so `await using gateway = new LoopbackGateway()` cleans up. */
	async [Symbol.asyncDispose](): Promise<void> {
		await this.stop();
	}

	/** Where the gateway listens, or `null` when it is not started. */
	get address(): LoopbackGatewayAddress | null {
		return this.#address;
	}

	/**
	 * The discord.js client options that point a client here: `rest.api`, and a no-op identify throttler so a
	 * re-IDENTIFY takes ~0.5 s instead of ~5–6.5 s.
	 * @param overrides - `{ throttleIdentify: true }` keeps discord.js's own throttler.
	 * @throws Error when the gateway is not started (the port is not known yet).
	 */
	clientOptions(overrides: LoopbackClientOptionsOverrides = {}): LoopbackClientOptions {
		const address = this.#address;
		if (address === null)
			throw new Error('LoopbackGateway#clientOptions() needs a started gateway; await start() first');
		if (typeof overrides !== 'object' || overrides === null) throw invalidOption('overrides', 'an object', overrides);
		const { throttleIdentify = false } = overrides;
		if (typeof throttleIdentify !== 'boolean') {
			throw invalidOption('overrides.throttleIdentify', 'a boolean', throttleIdentify);
		}
		const noopThrottler: NoopIdentifyThrottler = { waitForIdentify: () => Promise.resolve() };
		return {
			rest: { api: address.restUrl },
			ws: throttleIdentify ? {} : { buildIdentifyThrottler: () => noopThrottler },
		};
	}

	/** The fixtures (users, guilds, channels) this gateway serves. */
	get fixtures(): GatewayFixtures {
		return this.#fixtures;
	}

	/**
	 * The first fixture guild's id.
	 * @throws Error when the gateway was built with `guilds: []`.
	 */
	get guildId(): string {
		const id = this.#fixtures.defaultGuildId;
		if (id === undefined) throw new Error('LoopbackGateway has no guild (it was built with `guilds: []`)');
		return id;
	}

	/**
	 * The default channel: the first text channel of the first guild.
	 * @throws Error when that guild has no channel.
	 */
	get channelId(): string {
		const id = this.#fixtures.defaultChannelId;
		if (id === undefined) throw new Error('LoopbackGateway has no channel in its first guild');
		return id;
	}

	/** The bot's user id, which is also its application id. */
	get botUserId(): string {
		return this.#fixtures.botUserId;
	}

	/** The human fixture user's id (the guild owner, and the default author of injected messages). */
	get humanUserId(): string {
		return this.#fixtures.humanUserId;
	}

	/** Every message POSTed to `/channels/:id/messages`, in order. */
	get sentMessages(): readonly SentMessage[] {
		return this.#sentMessages;
	}

	/** The bot's answers to interactions (callbacks, follow-ups, edits), in arrival order. */
	get interactionResponses(): readonly InteractionResponse[] {
		return this.#interactions.responses;
	}

	/**
	 * The application commands the bot registered (`PUT`/`POST /applications/:id/commands`): the global ones, or
	 * those of one guild.
	 */
	commands(guildId?: string): JsonObject[] {
		return [...this.#commands.scope(guildId).values()];
	}

	/**
	 * Dispatches an INTERACTION_CREATE as if a member ran one of the bot's registered slash commands (or typed in
	 * one of its autocompleted options), in a fixture guild channel. The bot's answers are recorded in
	 * {@link LoopbackGateway.interactionResponses}.
	 * @returns The interaction's id, token and dispatched data.
	 * @throws {@link InvalidOptionError} for an unregistered command, an unknown channel or user, or bad options.
	 */
	injectInteraction(options: InjectInteractionOptions): InjectedInteraction {
		const id = this.#ids.next();
		const token = `loopback-interaction-token-${id}`;
		const data = buildInteraction(options, {
			fixtures: this.#fixtures,
			commands: this.#commands,
			id,
			token,
			defaultChannelId: this.channelId,
		});
		this.#interactions.add({ id, token, channelId: data['channel_id'] as string });
		this.#counters.interactionsCreated += 1;
		this.dispatch('INTERACTION_CREATE', data);
		return { id, token, data };
	}

	/** Every REST request, in order, with the status it got. */
	get requests(): readonly RestRequestRecord[] {
		return this.#requests;
	}

	/** REST requests no route matched (answered 404). Tests should assert this stays empty. */
	get unhandled(): readonly RestRequestRecord[] {
		return this.#unhandled;
	}

	/** A snapshot of the running totals. */
	get counters(): LoopbackGatewayCounters {
		return { ...this.#counters };
	}

	/** Gateway sockets currently open. */
	get openConnections(): number {
		return this.#connections.size;
	}

	/** Whether heartbeats go unacknowledged (see {@link LoopbackGateway.setZombie}). */
	get isZombie(): boolean {
		return this.#isZombie;
	}

	/**
	 * Resolves once `count` messages (in `channelId`, if given) have been sent, counting those already sent.
	 * @returns The first `count` matching messages.
	 * @throws Error after `timeoutMs`, saying how many arrived; the signal's reason when it aborts.
	 */
	waitForMessages(count: number, options: WaitForMessagesOptions = {}): Promise<SentMessage[]> {
		const { channelId } = options;
		const where = channelId === undefined ? '' : ` in channel ${channelId}`;
		return this.#waitFor(count, options, 'message', `sent messages${where}`, () =>
			this.#sentMessages.filter((message) => channelId === undefined || message.channelId === channelId),
		);
	}

	/**
	 * Resolves once the bot has answered interactions `count` times (callbacks, follow-ups and edits; of one
	 * interaction if `interactionId` is given), counting answers already given.
	 * @returns The first `count` matching answers.
	 * @throws Error after `timeoutMs`, saying how many arrived; the signal's reason when it aborts.
	 */
	waitForInteractionResponses(
		count: number,
		options: WaitForInteractionResponsesOptions = {},
	): Promise<InteractionResponse[]> {
		const { interactionId } = options;
		const what = `interaction responses${interactionId === undefined ? '' : ` to ${interactionId}`}`;
		return this.#waitFor(count, options, 'interactionResponse', what, () =>
			this.#interactions.responses.filter((r) => interactionId === undefined || r.interactionId === interactionId),
		);
	}

	/** Waits until `matching()` has `count` items, checking again on each `event`. */
	#waitFor<T>(
		count: number,
		options: { readonly timeoutMs?: number; readonly signal?: AbortSignal },
		event: 'message' | 'interactionResponse',
		what: string,
		matching: () => readonly T[],
	): Promise<T[]> {
		if (!Number.isSafeInteger(count) || count < 1) throw invalidOption('count', 'a positive integer', count);
		const { timeoutMs = DEFAULT_WAIT_TIMEOUT_MS, signal } = options;
		// A longer timer would overflow and fire at once.
		if (!(timeoutMs >= 0 && timeoutMs <= MAX_TIMER_MS)) {
			throw invalidOption('options.timeoutMs', describeRange({ min: 0, max: MAX_TIMER_MS, unit: 'ms' }), timeoutMs);
		}
		const now = matching();
		if (now.length >= count) return Promise.resolve(now.slice(0, count));
		if (signal?.aborted) return Promise.reject(signal.reason);
		return new Promise((resolve, reject) => {
			const cleanup = () => {
				clearTimeout(timer);
				this.off(event, onEvent);
				signal?.removeEventListener('abort', onAbort);
			};
			const onEvent = () => {
				const found = matching();
				if (found.length < count) return;
				cleanup();
				resolve(found.slice(0, count));
			};
			const onAbort = () => {
				cleanup();
				reject(signal?.reason);
			};
			const timer = setTimeout(() => {
				cleanup();
				reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${count} ${what}; got ${matching().length}`));
			}, timeoutMs);
			this.on(event, onEvent);
			signal?.addEventListener('abort', onAbort, { once: true });
		});
	}

	/**
	 * Terminates every gateway socket without a close frame. The client sees 1006 and RESUMEs about 0.5 s later.
	 * @returns How many sockets were dropped.
	 */
	dropConnections(): number {
		const dropped = this.#connections.size;
		for (const connection of this.#connections) {
			connection.closedByServer = true;
			connection.socket.terminate();
		}
		return dropped;
	}

	/**
	 * Sends op 7 RECONNECT on every socket. discord.js closes with 4200 itself, waits 500 ms and RESUMEs.
	 * @returns How many sockets were told.
	 */
	sendReconnect(): number {
		return this.#broadcast({ op: GatewayOpcode.Reconnect, d: null, s: null, t: null });
	}

	/**
	 * Sends op 9 INVALID_SESSION on every socket. `resumable: true`: the client RESUMEs on the same socket.
	 * `false`: the sessions are forgotten; the client closes with 1000, reconnects and IDENTIFYs.
	 * @returns How many sockets were told.
	 */
	invalidateSession(resumable: boolean): number {
		if (typeof resumable !== 'boolean') throw invalidOption('resumable', 'a boolean', resumable);
		const sent = this.#broadcast({ op: GatewayOpcode.InvalidSession, d: resumable, s: null, t: null });
		for (const connection of this.#connections) {
			const session = connection.session;
			if (session === null) continue;
			// Either way the socket no longer carries the session: a resumable one waits (buffering dispatches)
			// for the RESUME the client sends on this same socket; the other is gone.
			connection.session = null;
			session.connection = null;
			if (!resumable) this.#sessions.delete(session.id);
		}
		return sent;
	}

	/**
	 * Closes every gateway socket with `code`. discord.js RESUMEs after most codes (4000, 1001, 4009...),
	 * re-IDENTIFYs after 1000 and 4003/4005/4007/4008, and gives up after 4004 and 4010–4014
	 * (`shardDisconnect`). Avoid 4200: discord.js uses it for its own resume closes and ignores it from the
	 * server, so the shard hangs until zombie detection notices (no method here sends it on its own).
	 * @param code - 1000–1014 (except 1004–1006) or 3000–4999.
	 * @param reason - At most 123 bytes.
	 * @returns How many sockets were closed.
	 */
	closeConnections(code: number, reason = ''): number {
		if (!isValidCloseCode(code)) {
			throw invalidOption('code', 'a WebSocket close code: 1000–1014 except 1004–1006, or 3000–4999', code);
		}
		if (typeof reason !== 'string' || Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) {
			throw invalidOption('reason', `a string of at most ${MAX_CLOSE_REASON_BYTES} bytes`, reason);
		}
		const closed = this.#connections.size;
		for (const connection of this.#connections) this.#close(connection, code, reason);
		return closed;
	}

	/**
	 * Zombie mode: while on, heartbeats are received but never acknowledged with op 11. discord.js notices at
	 * its next heartbeat, closes with 4200 and RESUMEs (1–2 heartbeat intervals + 0.5 s). The mode stays on for
	 * new sockets too, so turn it off once the test has seen the `'resume'` it waits for.
	 */
	setZombie(on: boolean): void {
		if (typeof on !== 'boolean') throw invalidOption('on', 'a boolean', on);
		this.#isZombie = on;
	}

	/**
	 * Sends op 1 HEARTBEAT on every socket; the client heartbeats back at once.
	 * @returns How many sockets were asked.
	 */
	requestHeartbeat(): number {
		return this.#broadcast({ op: GatewayOpcode.Heartbeat, d: null, s: null, t: null });
	}

	/**
	 * Queues a REST failure. Failures are consumed in the order they were added: a request is answered by the
	 * first queued failure whose `method` and `route` match it, until its `times` run out. A 429 carries
	 * `Retry-After` and a `{ message, retry_after, global }` body; other statuses a `{ message, code }` body.
	 * Without `route`, the next request of any kind fails, including the `GET /gateway/bot` of a login.
	 * @throws {@link InvalidOptionError} naming the bad field.
	 */
	failRest(options: RestFailureOptions): void {
		this.#failures.add(options);
	}

	/** Drops every queued REST failure. */
	clearRestFailures(): void {
		this.#failures.clear();
	}

	/**
	 * Adds or overrides a REST route. Patterns use `:params` (`'/guilds/:id/bans/:userId'`) and match the path
	 * without `/api/vN`; the route added last wins, so a test can replace a built-in one.
	 * @throws {@link InvalidOptionError} for a bad method, pattern or handler.
	 * @example
	 * ```ts
	 * gateway.route('GET', '/guilds/:id/bans/:userId', ({ params }) => ({
	 *   status: 404,
	 *   body: { message: 'Unknown Ban', code: 10026, user: params.userId },
	 * }));
	 * ```
	 */
	route<Path extends string>(method: string, path: Path, handler: LoopbackRestHandler<Path>): void {
		this.#router.add(method, path, handler);
	}

	/**
	 * Dispatches a MESSAGE_CREATE as if a user wrote in a channel, with `guild_id` and `member` like Discord's.
	 * `<@id>` mentions of fixture users fill `mentions`. The message is stored, so the bot can fetch it.
	 * @returns The MESSAGE_CREATE data that was dispatched.
	 * @throws {@link InvalidOptionError} for an unknown channel or author, or content that is not a string.
	 */
	injectMessage(options: InjectMessageOptions): JsonObject {
		if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
		const { channelId = this.channelId, content, authorId = this.humanUserId, embeds = [], replyTo } = options;
		const guildId = this.#fixtures.channelGuildId(channelId);
		if (guildId === undefined || !this.#fixtures.isTextBased(channelId)) {
			throw invalidOption('options.channelId', 'the id of a fixture text channel', channelId);
		}
		if (typeof content !== 'string') throw invalidOption('options.content', 'a string', content);
		const author = this.#fixtures.user(authorId);
		if (author === undefined) {
			throw invalidOption('options.authorId', 'the id of the bot or the human fixture user', authorId);
		}
		if (!Array.isArray(embeds) || !embeds.every((embed) => isJsonObject(embed))) {
			throw invalidOption('options.embeds', 'an array of embed objects', embeds);
		}
		if (replyTo !== undefined && this.#messages.get(channelId, replyTo) === undefined) {
			throw invalidOption('options.replyTo', `the id of a message in channel ${channelId}`, replyTo);
		}
		const mentions = [...content.matchAll(/<@!?(\d+)>/g)].flatMap(([, id]) => {
			const user = id === undefined ? undefined : this.#fixtures.user(id);
			return user === undefined ? [] : [user];
		});
		const message = buildMessageObject({
			id: this.#ids.next(),
			channelId,
			author,
			content,
			embeds,
			mentions,
			...(replyTo === undefined
				? {}
				: { messageReference: { type: 0, message_id: replyTo, channel_id: channelId, guild_id: guildId } }),
		});
		this.#messages.set(message);
		this.#counters.messagesCreated += 1;
		const data = this.#messageCreateData(message);
		this.dispatch('MESSAGE_CREATE', data);
		return data;
	}

	/**
	 * Dispatches any event to every session, each with its own next sequence number. An event whose data has a
	 * `guild_id` goes only to the shard that owns that guild. Sessions whose socket is down buffer it, and a
	 * RESUME replays it.
	 * @param event - The dispatch name, upper case: `'GUILD_UPDATE'`, `'MESSAGE_REACTION_ADD'`...
	 * @param data - The `d` of the payload; anything `JSON.stringify` accepts.
	 * @returns How many sessions it was dispatched to.
	 */
	dispatch(event: string, data: object): number {
		if (typeof event !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(event)) {
			throw invalidOption('event', "an upper-case dispatch name like 'GUILD_UPDATE'", event);
		}
		if (typeof data !== 'object' || data === null) throw invalidOption('data', 'an object', data);
		const guildId = (data as { readonly guild_id?: unknown }).guild_id;
		let reached = 0;
		for (const session of this.#sessions.values()) {
			if (isSnowflake(guildId) && !shardOwnsGuild(session.shard, guildId)) continue;
			this.#dispatchTo(session, event, data);
			reached += 1;
		}
		return reached;
	}

	// ---------------------------------------------------------------- gateway

	#onConnection(socket: WebSocket, request: IncomingMessage): void {
		this.#connectionCount += 1;
		const connection: Connection = {
			id: this.#connectionCount,
			socket,
			url: request.url ?? '/',
			session: null,
			closedByServer: false,
		};
		this.#connections.add(connection);
		this.#counters.connections += 1;
		// `ws` emits 'error' for malformed frames and then closes the socket; the close handler does the rest.
		socket.on('error', () => {});
		socket.on('message', (data) => this.#onFrame(connection, data));
		socket.on('close', (code, reason) => this.#onSocketClose(connection, code, reason.toString('utf8')));
		this.emit('connection', { connectionId: connection.id, url: connection.url });
		const refusal = protocolRefusal(connection.url);
		if (refusal !== null) {
			this.#close(connection, GatewayCloseCode.InvalidApiVersion, refusal);
			return;
		}
		this.#send(connection, {
			op: GatewayOpcode.Hello,
			d: { heartbeat_interval: this.#options.heartbeatIntervalMs, _trace: ['["loopback-gateway",{"micros":0}]'] },
			s: null,
			t: null,
		});
	}

	#onSocketClose(connection: Connection, code: number, reason: string): void {
		this.#connections.delete(connection);
		const session = connection.session;
		if (session !== null && session.connection === connection) {
			session.connection = null;
			// Like Discord: a client that closes with 1000 or 1001 ends its session (discord.js does so on destroy).
			if (!connection.closedByServer && (code === 1000 || code === 1001)) this.#sessions.delete(session.id);
		}
		this.emit('close', {
			connectionId: connection.id,
			code,
			reason,
			initiatedBy: connection.closedByServer ? 'server' : 'client',
			sessionId: session?.id ?? null,
		});
	}

	#onFrame(connection: Connection, data: RawData): void {
		let payload: JsonValue;
		try {
			payload = JSON.parse(rawDataToString(data)) as JsonValue;
		} catch {
			this.#close(connection, GatewayCloseCode.DecodeError, 'Error while decoding payload.');
			return;
		}
		if (!isJsonObject(payload) || typeof payload['op'] !== 'number') {
			this.#close(connection, GatewayCloseCode.DecodeError, 'Error while decoding payload.');
			return;
		}
		const d = payload['d'] ?? null;
		switch (payload['op']) {
			case GatewayOpcode.Heartbeat:
				this.#onHeartbeat(connection, d);
				return;
			case GatewayOpcode.Identify:
				this.#onIdentify(connection, d);
				return;
			case GatewayOpcode.Resume:
				this.#onResume(connection, d);
				return;
			case GatewayOpcode.PresenceUpdate:
			case GatewayOpcode.VoiceStateUpdate:
				// Accepted and ignored: nothing in the fixtures reflects presence or voice.
				if (connection.session === null)
					this.#close(connection, GatewayCloseCode.NotAuthenticated, 'Not authenticated.');
				return;
			case GatewayOpcode.RequestGuildMembers:
				this.#onRequestGuildMembers(connection, d);
				return;
			default:
				this.#close(connection, GatewayCloseCode.UnknownOpcode, 'Unknown opcode.');
		}
	}

	#onHeartbeat(connection: Connection, d: JsonValue): void {
		this.#counters.heartbeats += 1;
		const acked = !this.#isZombie;
		if (acked) {
			this.#send(connection, { op: GatewayOpcode.HeartbeatAck, d: null, s: null, t: null });
			this.#counters.heartbeatAcks += 1;
		}
		this.emit('heartbeat', { connectionId: connection.id, seq: typeof d === 'number' ? d : null, acked });
	}

	#tokenMatches(token: JsonValue | undefined): boolean {
		return this.#options.token === null || (typeof token === 'string' && bareToken(token) === this.#options.token);
	}

	#onIdentify(connection: Connection, d: JsonValue): void {
		if (connection.session !== null) {
			this.#close(connection, GatewayCloseCode.AlreadyAuthenticated, 'You sent more than one identify payload.');
			return;
		}
		if (!isJsonObject(d) || typeof d['token'] !== 'string') {
			this.#close(connection, GatewayCloseCode.DecodeError, 'Error while decoding payload.');
			return;
		}
		if (!this.#tokenMatches(d['token'])) {
			this.#close(connection, GatewayCloseCode.AuthenticationFailed, 'Authentication failed.');
			return;
		}
		const requestedShard = d['shard'] ?? [0, 1];
		const [shardId, shardCount] = Array.isArray(requestedShard) ? requestedShard : [];
		if (
			typeof shardId !== 'number' ||
			typeof shardCount !== 'number' ||
			!Number.isSafeInteger(shardId) ||
			!Number.isSafeInteger(shardCount) ||
			shardId < 0 ||
			shardId >= shardCount
		) {
			this.#close(connection, 4010, 'Invalid shard.');
			return;
		}
		const shard = [shardId, shardCount] as const;
		// A client that identifies again has abandoned its earlier session for this shard; drop it so dispatches
		// do not pile up in a buffer nobody will resume.
		for (const [id, other] of this.#sessions) {
			if (other.connection === null && other.token === d['token'] && other.shard[0] === shardId) {
				this.#sessions.delete(id);
			}
		}
		this.#sessionCount += 1;
		const session: Session = {
			id: this.#sessionCount.toString(16).padStart(32, '0'),
			token: d['token'],
			shard,
			seq: 0,
			buffer: [],
			connection,
		};
		this.#sessions.set(session.id, session);
		connection.session = session;
		this.#counters.identifies += 1;

		const guildIds = this.#fixtures.guildIds.filter((guildId) => shardOwnsGuild(shard, guildId));
		const botUserId = this.#fixtures.botUserId;
		this.#dispatchTo(
			session,
			'READY',
			{
				v: API_VERSION,
				user_settings: {},
				user: this.#fixtures.botUser,
				guilds: guildIds.map((id) => ({ id, unavailable: true })),
				relationships: [],
				private_channels: [],
				presences: [],
				session_id: session.id,
				session_type: 'normal',
				resume_gateway_url: this.#address?.gatewayUrl ?? null,
				shard,
				application: { id: botUserId, flags: 0 },
				geo_ordered_rtc_regions: [],
				guild_join_requests: [],
				auth: {},
				_trace: ['["loopback-gateway",{"micros":0}]'],
			},
			false,
		);
		for (const guildId of guildIds)
			this.#dispatchTo(session, 'GUILD_CREATE', this.#fixtures.guildCreate(guildId) ?? {});
		const intents = d['intents'];
		this.emit('identify', {
			connectionId: connection.id,
			sessionId: session.id,
			shard,
			intents: typeof intents === 'number' ? intents : 0,
			payload: d,
		});
	}

	#onResume(connection: Connection, d: JsonValue): void {
		this.#counters.resumes += 1;
		if (connection.session !== null) {
			this.#close(connection, GatewayCloseCode.AlreadyAuthenticated, 'You sent more than one identify payload.');
			return;
		}
		if (!isJsonObject(d) || typeof d['session_id'] !== 'string') {
			this.#close(connection, GatewayCloseCode.DecodeError, 'Error while decoding payload.');
			return;
		}
		if (!this.#tokenMatches(d['token'])) {
			this.#close(connection, GatewayCloseCode.AuthenticationFailed, 'Authentication failed.');
			return;
		}
		const sessionId = d['session_id'];
		const seq = typeof d['seq'] === 'number' ? d['seq'] : 0;
		const session = this.#sessions.get(sessionId);
		const oldest = session?.buffer[0]?.s ?? null;
		// Refused like Discord refuses: an unknown session, a sequence from the future, or one so old that the
		// events after it are no longer buffered. discord.js answers op 9 d:false with a fresh IDENTIFY.
		if (session === undefined || seq > session.seq || (oldest !== null && oldest > seq + 1)) {
			this.#send(connection, { op: GatewayOpcode.InvalidSession, d: false, s: null, t: null });
			this.emit('resume', { connectionId: connection.id, sessionId, seq, accepted: false, replayed: 0 });
			return;
		}
		if (session.connection !== null && session.connection !== connection) session.connection.session = null;
		session.connection = connection;
		connection.session = session;
		let replayed = 0;
		for (const payload of session.buffer) {
			if (payload.s !== null && payload.s > seq && this.#send(connection, payload)) {
				replayed += 1;
				this.#counters.dispatches += 1;
			}
		}
		this.#dispatchTo(session, 'RESUMED', { _trace: ['["loopback-gateway",{"micros":0}]'] }, false);
		this.emit('resume', { connectionId: connection.id, sessionId, seq, accepted: true, replayed });
	}

	#onRequestGuildMembers(connection: Connection, d: JsonValue): void {
		const session = connection.session;
		if (session === null) {
			this.#close(connection, GatewayCloseCode.NotAuthenticated, 'Not authenticated.');
			return;
		}
		if (!isJsonObject(d)) return;
		const requested = d['guild_id'];
		const guildIds = Array.isArray(requested) ? requested : [requested];
		const userIds = Array.isArray(d['user_ids'])
			? d['user_ids']
			: typeof d['user_ids'] === 'string'
				? [d['user_ids']]
				: null;
		const query = typeof d['query'] === 'string' ? d['query'].toLowerCase() : '';
		for (const guildId of guildIds) {
			if (typeof guildId !== 'string' || !this.#fixtures.hasGuild(guildId) || !shardOwnsGuild(session.shard, guildId)) {
				continue;
			}
			const members = (this.#fixtures.members(guildId) ?? []).filter((member) => {
				const user = member['user'];
				if (!isJsonObject(user)) return false;
				if (userIds !== null) return userIds.includes(user['id'] ?? null);
				return String(user['username']).toLowerCase().startsWith(query);
			});
			const found = new Set(members.map((member) => (member['user'] as JsonObject)['id']));
			this.#dispatchTo(session, 'GUILD_MEMBERS_CHUNK', {
				guild_id: guildId,
				members,
				chunk_index: 0,
				chunk_count: 1,
				not_found: userIds === null ? [] : userIds.filter((id) => !found.has(id)),
				...(d['nonce'] === undefined ? {} : { nonce: d['nonce'] }),
			});
		}
	}

	/** Gives the dispatch the session's next sequence number, buffers it for RESUME, and sends it if connected. */
	#dispatchTo(session: Session, event: string, data: object, replayable = true): void {
		session.seq += 1;
		const payload: GatewayPayload = { op: GatewayOpcode.Dispatch, d: data, s: session.seq, t: event };
		if (replayable) {
			session.buffer.push(payload);
			if (session.buffer.length > REPLAY_BUFFER_SIZE) session.buffer.shift();
		}
		if (session.connection !== null && this.#send(session.connection, payload)) this.#counters.dispatches += 1;
	}

	#send(connection: Connection, payload: GatewayPayload): boolean {
		if (connection.socket.readyState !== WebSocket.OPEN) return false;
		connection.socket.send(JSON.stringify(payload));
		return true;
	}

	#broadcast(payload: GatewayPayload): number {
		let sent = 0;
		for (const connection of this.#connections) if (this.#send(connection, payload)) sent += 1;
		return sent;
	}

	#close(connection: Connection, code: number, reason: string): void {
		connection.closedByServer = true;
		connection.socket.close(code, reason);
	}

	#messageCreateData(message: JsonObject): JsonObject {
		const channelId = message['channel_id'] as string;
		const guildId = this.#fixtures.channelGuildId(channelId);
		const author = message['author'];
		const authorId = isJsonObject(author) && typeof author['id'] === 'string' ? author['id'] : '';
		// Discord's MESSAGE_CREATE carries the author's member without `user`, and the guild id.
		const member = guildId === undefined ? undefined : this.#fixtures.member(guildId, authorId, false);
		return {
			...message,
			...(guildId === undefined ? {} : { guild_id: guildId }),
			...(member === undefined ? {} : { member }),
		};
	}

	// ---------------------------------------------------------------- REST

	#routeHost(): DefaultRestRouteHost {
		return {
			fixtures: this.#fixtures,
			messages: this.#messages,
			commands: this.#commands,
			attachments: new Map(),
			gatewayUrl: () => this.#address?.gatewayUrl ?? `ws://127.0.0.1:${this.#port}`,
			baseUrl: () => `http://127.0.0.1:${this.#address?.port ?? this.#port}`,
			nextId: () => this.#ids.next(),
			recordBotMessage: (message, payload, files) => this.#recordBotMessage(message, payload, files),
			echo: (event, data) => {
				if (!this.#options.echoMessageCreate) return;
				const guildId = this.#fixtures.channelGuildId(data['channel_id'] as string);
				const echoed = event === 'MESSAGE_UPDATE' ? this.#messageCreateData(data) : data;
				setImmediate(() => this.dispatch(event, guildId === undefined ? echoed : { ...echoed, guild_id: guildId }));
			},
		};
	}

	#recordBotMessage(message: JsonObject, payload: JsonObject, files: readonly RestFile[]): void {
		const channelId = message['channel_id'] as string;
		const embeds = message['embeds'];
		const sent: SentMessage = {
			id: message['id'] as string,
			channelId,
			guildId: this.#fixtures.channelGuildId(channelId) ?? null,
			content: message['content'] as string,
			embeds: Array.isArray(embeds) ? (embeds as JsonObject[]) : [],
			files,
			payload,
			message,
			receivedAt: new Date(),
		};
		this.#sentMessages.push(sent);
		this.#counters.messagesCreated += 1;
		if (this.#options.echoMessageCreate) {
			// After the response is written, as Discord's gateway event trails the REST answer; discord.js handles
			// either order (MESSAGE_CREATE for a cached own message still emits messageCreate).
			const data = this.#messageCreateData(message);
			setImmediate(() => this.dispatch('MESSAGE_CREATE', data));
		}
		this.emit('message', sent);
	}

	#onRequest(request: IncomingMessage, response: ServerResponse): void {
		this.#handleRequest(request, response).catch((error: unknown) => {
			// Only a throwing event listener gets here: the answer may already be on its way.
			if (!response.headersSent) {
				response.writeHead(500, { 'Content-Type': 'application/json' });
				response.end(JSON.stringify({ message: '500: Internal Server Error', code: 0 }));
			} else if (!response.writableEnded) {
				response.end();
			}
			process.emitWarning(`LoopbackGateway: a REST listener threw: ${String(error)}`);
		});
	}

	#isAuthorized(method: string, path: string, authorization: string | undefined): boolean {
		if (this.#options.token === null) return true;
		// Like Discord: gateway discovery and CDN files need no token.
		if (method === 'GET' && (path === '/gateway' || path.startsWith('/attachments/'))) return true;
		// Interaction responses carry their credential in the path (the interaction token); discord.js sends no token.
		if (path.startsWith('/interactions/') || path.startsWith('/webhooks/')) return true;
		return authorization !== undefined && bareToken(authorization) === this.#options.token;
	}

	async #handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const receivedAt = new Date();
		const method = (request.method ?? 'GET').toUpperCase();
		const url = request.url ?? '/';
		const parsedUrl = new URL(url, 'http://127.0.0.1');
		const path = normalizeRestPath(parsedUrl.pathname);
		this.#counters.restRequests += 1;

		let body: RequestBody = { json: null, files: [] };
		let answer: LoopbackRestResponse;
		let route: string | null = null;
		let injected = false;
		let isUnhandled = false;
		let error: unknown;
		let hasError = false;
		try {
			body = await readRequestBody(request);
			// Order of refusal: a bad token first (as Discord), then an injected failure, then the routes.
			const isAuthorized = this.#isAuthorized(method, path, request.headers.authorization);
			const failure = isAuthorized ? this.#failures.take(method, path) : undefined;
			const match = this.#router.match(method, path);
			if (!isAuthorized) {
				answer = discordError(401, 0, '401: Unauthorized');
			} else if (failure !== undefined) {
				answer = failure;
				injected = true;
			} else if (match !== undefined) {
				route = match.pattern;
				answer = await match.handler({
					method,
					path,
					params: match.params,
					query: parsedUrl.searchParams,
					headers: request.headers,
					body: body.json,
					files: body.files,
				});
				checkResponse(answer);
			} else {
				answer = discordError(404, 0, '404: Not Found');
				isUnhandled = true;
			}
		} catch (caught) {
			if (caught instanceof RequestBodyError) {
				answer = discordError(caught.status, caught.code, caught.message);
			} else {
				answer = discordError(500, 0, '500: Internal Server Error');
				error = caught;
				hasError = true;
			}
		}

		const status = writeResponse(response, answer);
		const record: RestRequestRecord = {
			method,
			path,
			url,
			query: parsedUrl.searchParams,
			headers: request.headers,
			body: body.json,
			files: body.files,
			route,
			status,
			injected,
			...(hasError ? { error } : {}),
			receivedAt,
		};
		this.#requests.push(record);
		if (isUnhandled) this.#unhandled.push(record);
		this.emit('restRequest', record);
		if (isUnhandled) this.emit('unhandled', record);
	}
}

function checkResponse(answer: unknown): asserts answer is LoopbackRestResponse {
	if (typeof answer !== 'object' || answer === null) {
		throw new TypeError(
			`A LoopbackGateway route handler must return { status?, body?, headers? }, got ${String(answer)}`,
		);
	}
	const { status } = answer as { readonly status?: unknown };
	if (status !== undefined && (!Number.isSafeInteger(status) || (status as number) < 100 || (status as number) > 599)) {
		throw new TypeError(`A LoopbackGateway route handler returned status ${String(status)}; expected 100–599`);
	}
}

/** Writes a handler's answer: JSON unless the body is bytes, nothing for 204. Returns the status sent. */
function writeResponse(response: ServerResponse, answer: LoopbackRestResponse): number {
	const status = answer.status ?? 200;
	const headers: Record<string, string> = { ...answer.headers };
	const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
	let payload: Buffer | string | undefined;
	if (status !== 204 && answer.body !== undefined) {
		if (answer.body instanceof Uint8Array) {
			payload = Buffer.from(answer.body);
			if (!hasContentType) headers['Content-Type'] = 'application/octet-stream';
		} else {
			payload = JSON.stringify(answer.body);
			if (!hasContentType) headers['Content-Type'] = 'application/json';
		}
	}
	response.writeHead(status, headers);
	response.end(payload);
	return status;
}
