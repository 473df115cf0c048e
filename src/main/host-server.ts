import { getRandomValues } from 'node:crypto';
import type { ServiceMap } from '../protocol/index.js';
import {
	type Cloneable,
	DiscordAccessError,
	describeOversized,
	describeUncloneable,
	describeValue,
	ErrorCode,
	type HostCall,
	HostMethod,
	type HostReply,
	type HostResult,
	InvalidOptionError,
	type MessagePayload,
	parseHostCall,
	type RestCallOptions,
	type RestMethod,
	ServiceNotFoundError,
	serializeError,
} from '../protocol/index.js';
import { type CompiledAllowlist, checkRestMethod, checkRoute, SNOWFLAKE } from './discord-allowlist.js';

/** Discord access on the main thread, implemented by the LoopController on top of a discord.js client. @internal */
export interface DiscordBridge {
	send(channelId: string, payload: MessagePayload): Promise<Cloneable>;
	rest(method: RestMethod, route: string, options: RestCallOptions): Promise<Cloneable>;
}

/** Who is calling: the loop and iteration behind an invocation, and what it may reach. @internal */
export interface InvocationScope {
	readonly loopName: string;
	readonly iteration: number;
	/** The loop's allowlist; `undefined` allows the defaults (any channel, no REST route). */
	readonly allowlist: CompiledAllowlist | undefined;
	/** The client this iteration's `ctx.discord` goes through: the loop's own, never a pool-wide one. */
	readonly discord: DiscordBridge | undefined;
}

/** A live invocation: its scope, and the channel that first called with its token. */
interface Live {
	readonly scope: InvocationScope;
	channel: object | undefined;
	/** How the channel that owns the invocation broke the protocol, once it has. */
	violation: string | undefined;
}

/** Random words for tokens, drawn from the CSPRNG a block at a time (two words a token). */
const randomWords = new Uint32Array(512);
let nextWord = randomWords.length;

/** A token: a uniformly random safe integer (53 bits). */
function randomToken(): number {
	if (nextWord === randomWords.length) {
		getRandomValues(randomWords);
		nextWord = 0;
	}
	const high = (randomWords[nextWord++] as number) & 0x1f_ffff;
	const low = randomWords[nextWord++] as number;
	return high * 0x1_0000_0000 + low;
}

/** The most arguments a service call may pass (the function is called with them spread). */
export const MAX_SERVICE_ARGS = 256;
/** Calls a channel may have waiting to be read; a worker past it is flooding the main thread and is replaced. */
export const MAX_QUEUED_CALLS = 100_000;
/**
 * Calls with a token that is not live (an iteration that ended, or one never given) a channel may make in
 * {@link STRAY_WINDOW_MS}. A buggy task makes a few late calls now and then, and keeps its worker; a channel that
 * keeps going is guessing other iterations' tokens (53 bits each) and is cut off: at this rate a guess would land
 * once in millions of years.
 */
export const MAX_STRAY_CALLS = 64;
/** The window {@link MAX_STRAY_CALLS} counts in. */
export const STRAY_WINDOW_MS = 60_000;
/** Calls read from one channel per turn of the event loop, so a burst cannot hold the gateway's heartbeat. */
const CALLS_PER_TURN = 256;

/** Header names a task may not set: the REST client owns authentication and framing. */
const RESERVED_HEADERS = new Set(['authorization', 'host', 'content-length', 'transfer-encoding', 'connection']);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[^\r\n\0]*$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
	const prototype: unknown = Object.getPrototypeOf(value);
	return prototype === Object.prototype || prototype === null;
}

function invalidArgument(option: string, message: string): InvalidOptionError {
	return new InvalidOptionError(option, message, { code: ErrorCode.InvalidArgument });
}

function stringRecord(value: unknown, option: string, check?: (key: string, entry: string) => void) {
	if (!isPlainObject(value))
		throw invalidArgument(option, `\`${option}\` must be an object of strings, got ${describeValue(value)}`);
	for (const [key, entry] of Object.entries(value)) {
		if (typeof entry !== 'string') {
			throw invalidArgument(`${option}.${key}`, `\`${option}.${key}\` must be a string, got ${describeValue(entry)}`);
		}
		check?.(key, entry);
	}
	return value as Readonly<Record<string, string>>;
}

/** The options of a REST call from a task, checked field by field; nothing else is passed to the REST client. */
function checkRestOptions(options: unknown): RestCallOptions {
	if (options === undefined) return {};
	if (!isPlainObject(options)) {
		throw invalidArgument('options', `REST call options must be an object, got ${describeValue(options)}`);
	}
	const { body, query, reason, headers, ...unknown } = options;
	const extra = Object.keys(unknown)[0];
	if (extra !== undefined) {
		throw invalidArgument(
			`options.${extra}`,
			`Unknown REST call option \`${extra}\`: expected one of body, query, reason, headers`,
		);
	}
	if (reason !== undefined && (typeof reason !== 'string' || !HEADER_VALUE.test(reason))) {
		throw invalidArgument(
			'options.reason',
			`\`options.reason\` must be a one-line string, got ${describeValue(reason)}`,
		);
	}
	return {
		...(body === undefined ? {} : { body: body as Cloneable }),
		...(query === undefined ? {} : { query: stringRecord(query, 'options.query') }),
		...(reason === undefined ? {} : { reason }),
		...(headers === undefined
			? {}
			: {
					headers: stringRecord(headers, 'options.headers', (name, value) => {
						if (!HEADER_NAME.test(name) || RESERVED_HEADERS.has(name.toLowerCase()) || !HEADER_VALUE.test(value)) {
							throw invalidArgument(
								`options.headers.${name}`,
								`A task may not send the header ${describeValue(name)} (reserved, or not a valid header)`,
							);
						}
					}),
				}),
	};
}

/** Refuses a value from a task that is too large to walk or spread (a sparse array of length 2^32 - 1). */
function refuseOversized(value: unknown, option: string): void {
	const problem = describeOversized(value, option);
	if (problem) throw invalidArgument(option, `A task sent a value too large to take: ${problem}`);
}

function ok(value: unknown, what: string): HostResult {
	const problem = describeUncloneable(value, what);
	if (problem) {
		return {
			ok: false,
			error: serializeError(new TypeError(`${what} cannot be sent back to the task: ${problem}`)),
		};
	}
	return { ok: true, value: value as Cloneable };
}

/**
 * The main side of every host channel: the only code that runs services and touches Discord on a task's behalf.
 * It answers exactly the {@link HostMethod}s, each with its arguments checked, and only for an invocation that is
 * running now: the pool {@link HostServer.open | opens} an invocation with a random token, which the task's host
 * calls must carry, and the first channel (worker or process) that uses a token owns it.
 *
 * A message that is not a host call at all can only come from code that bypassed the worker host; `receive`
 * reports it so the pool can replace that worker, and nothing in it is acted on.
 * @internal
 */
export class HostServer {
	readonly #services: ServiceMap;
	readonly #live = new Map<number, Live>();
	/** Calls each channel made with a token that was not live, in its current window (see {@link MAX_STRAY_CALLS}). */
	readonly #strays = new WeakMap<object, { count: number; since: number }>();

	constructor(services: ServiceMap) {
		this.#services = services;
	}

	/** Registers a running iteration; returns the token its host calls must carry. */
	open(scope: InvocationScope): number {
		let token = randomToken();
		// Two live invocations with one token would share a scope; at 2^-53 a draw, drawing again costs nothing.
		while (this.#live.has(token)) token = randomToken();
		this.#live.set(token, { scope, channel: undefined, violation: undefined });
		return token;
	}

	/** Ends an invocation: calls carrying its token are refused from now on. */
	close(token: number): void {
		this.#live.delete(token);
	}

	/** Why the channel running this invocation was cut off, if it was (for the error of its iteration). */
	violationOf(token: number): string | undefined {
		return this.#live.get(token)?.violation;
	}

	/**
	 * Opens the main side of one channel (a worker's port, a task process): returns the function its messages go
	 * to. Messages are queued and read in turns of {@link CALLS_PER_TURN}, so a burst of calls from a task cannot
	 * hold the main thread; past {@link MAX_QUEUED_CALLS} waiting, the channel is cut off (`onViolation`).
	 */
	connect(
		channel: object,
		reply: (reply: HostReply) => void,
		onViolation: (why: string) => void,
	): (message: unknown) => void {
		const queue: unknown[] = [];
		let head = 0;
		let scheduled = false;
		let broken = false;
		const drain = () => {
			scheduled = false;
			const end = Math.min(queue.length, head + CALLS_PER_TURN);
			for (; head < end && !broken; head++) {
				const violation = this.receive(channel, queue[head], reply);
				if (violation !== undefined) {
					broken = true;
					onViolation(violation);
				}
			}
			if (broken || head === queue.length) {
				queue.length = 0;
				head = 0;
			} else {
				scheduled = true;
				setImmediate(drain);
			}
		};
		return (message) => {
			if (broken) return;
			if (queue.length - head >= MAX_QUEUED_CALLS) {
				broken = true;
				queue.length = 0;
				onViolation(this.#violated(channel, `more than ${MAX_QUEUED_CALLS} host calls waiting to be read`));
				return;
			}
			queue.push(message);
			if (!scheduled) {
				scheduled = true;
				setImmediate(drain);
			}
		};
	}

	/**
	 * Handles one message from `channel` (the worker's port, or the task process).
	 * @returns `undefined` when the message was a host call (answered through `reply`, possibly with an error), or
	 * a sentence saying how the channel broke the protocol.
	 */
	receive(channel: object, message: unknown, reply: (reply: HostReply) => void): string | undefined {
		const call = parseHostCall(message);
		if (typeof call === 'string') return this.#violated(channel, call);
		const live = this.#live.get(call.token);
		if (live !== undefined) {
			live.channel ??= channel;
			if (live.channel !== channel)
				return this.#violated(channel, 'the call carries the token of an invocation another worker runs');
		} else {
			const now = Date.now();
			let strays = this.#strays.get(channel);
			if (strays === undefined || now - strays.since >= STRAY_WINDOW_MS) {
				strays = { count: 0, since: now };
				this.#strays.set(channel, strays);
			}
			if (++strays.count > MAX_STRAY_CALLS) {
				return this.#violated(
					channel,
					`more than ${MAX_STRAY_CALLS} host calls in ${STRAY_WINDOW_MS / 1000} s with tokens it was not given`,
				);
			}
		}
		this.#answer(call, live?.scope).then(
			(result) => reply({ type: 'reply', id: call.id, result }),
			() => {},
		);
		return undefined;
	}

	/** Marks the invocations `channel` runs with the violation, and returns it. */
	#violated(channel: object, violation: string): string {
		for (const live of this.#live.values()) if (live.channel === channel) live.violation ??= violation;
		return violation;
	}

	async #answer(call: HostCall, scope: InvocationScope | undefined): Promise<HostResult> {
		try {
			if (!scope) {
				throw new DiscordAccessError(
					'A task called the main thread after its iteration had ended (or with a token it was not given): calls must finish before the task returns',
					{ code: ErrorCode.DiscordAccessDenied },
				);
			}
			switch (call.method) {
				case HostMethod.CallService:
					return await this.#callService(call.name, call.args);
				case HostMethod.SendMessage:
					return await this.#sendMessage(scope, call.channelId, call.payload);
				case HostMethod.Rest:
					return await this.#rest(scope, call.restMethod, call.route, call.options);
			}
		} catch (error) {
			return { ok: false, error: serializeError(error) };
		}
	}

	async #callService(name: unknown, args: unknown): Promise<HostResult> {
		if (typeof name !== 'string') {
			throw invalidArgument('name', `A service name must be a string, got ${describeValue(name)}`);
		}
		if (!Array.isArray(args) || args.length > MAX_SERVICE_ARGS) {
			throw invalidArgument(
				'args',
				`Service arguments must be an array of at most ${MAX_SERVICE_ARGS}, got ${describeValue(args)}`,
			);
		}
		const service = Object.hasOwn(this.#services, name) ? this.#services[name] : undefined;
		if (typeof service !== 'function') {
			const known = Object.keys(this.#services);
			throw new ServiceNotFoundError(
				`The task called ctx.host.${name}(), but the pool has no service '${name}' (services: ${known.length ? known.join(', ') : 'none'})`,
			);
		}
		// Walked only for a service that exists: a call that will be refused anyway costs no walk on the main thread.
		refuseOversized(args, 'args');
		return ok(await service(...args), `The result of service '${name}'`);
	}

	async #sendMessage(scope: InvocationScope, channelId: unknown, payload: unknown): Promise<HostResult> {
		if (typeof channelId !== 'string' || !SNOWFLAKE.test(channelId)) {
			throw new DiscordAccessError(`A channel id must be a snowflake (digits), got ${describeValue(channelId)}`, {
				code: ErrorCode.DiscordAccessDenied,
			});
		}
		if (scope.allowlist && !scope.allowlist.allowsChannel(channelId)) {
			throw new DiscordAccessError(
				`Loop '${scope.loopName}' may not send to channel ${channelId}: it is not in the loop's discord.channels allowlist`,
				{ code: ErrorCode.DiscordAccessDenied },
			);
		}
		if (typeof payload !== 'string' && !isPlainObject(payload)) {
			throw invalidArgument('payload', `A message must be a string or message options, got ${describeValue(payload)}`);
		}
		refuseOversized(payload, 'payload');
		return ok(await bridgeOf(scope).send(channelId, payload as MessagePayload), 'The sent message');
	}

	async #rest(scope: InvocationScope, restMethod: unknown, route: unknown, options: unknown): Promise<HostResult> {
		const method = checkRestMethod(restMethod);
		const path = checkRoute(route);
		const allowed = scope.allowlist ? scope.allowlist.allowsRoute(method, path) : false;
		if (!allowed) {
			throw new DiscordAccessError(
				`Loop '${scope.loopName}' may not call ${method.toUpperCase()} ${path}: it is not in the loop's discord allowlist (routes, and channels for a channel's routes)`,
				{ code: ErrorCode.DiscordAccessDenied },
			);
		}
		refuseOversized(options, 'options');
		const checked = checkRestOptions(options);
		return ok(await bridgeOf(scope).rest(method, path, checked), `The response of ${method.toUpperCase()} ${path}`);
	}
}

function bridgeOf(scope: InvocationScope): DiscordBridge {
	if (!scope.discord) {
		throw new DiscordAccessError(
			`Loop '${scope.loopName}' used ctx.discord, but it has no discord.js client: create the loop through a LoopController({ client })`,
			{ code: ErrorCode.DiscordUnavailable },
		);
	}
	return scope.discord;
}
