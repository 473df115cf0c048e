import type { Cloneable } from './cloneable.js';
import type { HostResult, MessagePayload, RestCallOptions, RestMethod } from './host-api.js';
import type { RunIterationRequest, TaskRef } from './tasks.js';

/**
 * The whole host API: the only things a task may ask of the main thread. The set is fixed here and on the main
 * side; a message naming anything else is a broken or hostile worker, not a call.
 */
export const HostMethod = {
	/** Call a service of the pool (`ctx.host.name(...args)`). */
	CallService: 'callService',
	/** Send a message (`ctx.discord.send(channelId, payload)`). */
	SendMessage: 'sendMessage',
	/** A REST call (`ctx.discord.rest.get(route, options)`). */
	Rest: 'rest',
} as const;
/** One of the {@link HostMethod} values. */
export type HostMethod = (typeof HostMethod)[keyof typeof HostMethod];

type HostCallBase = {
	readonly type: 'call';
	/** Correlation id of this call, chosen by the caller; the reply carries it back. */
	readonly id: number;
	/** The iteration's token ({@link RunIterationRequest.token}): the secret that makes the call the iteration's. */
	readonly token: number;
};

/**
 * Worker (or task process) → main: one host call. A closed union: there is no property path, no constructor and
 * no function on the wire, so nothing a task sends can name main-thread code other than these three methods.
 */
export type HostCall =
	| (HostCallBase & {
			readonly method: typeof HostMethod.CallService;
			readonly name: string;
			readonly args: readonly Cloneable[];
	  })
	| (HostCallBase & {
			readonly method: typeof HostMethod.SendMessage;
			readonly channelId: string;
			readonly payload: MessagePayload;
	  })
	| (HostCallBase & {
			readonly method: typeof HostMethod.Rest;
			readonly restMethod: RestMethod;
			readonly route: string;
			readonly options: RestCallOptions;
	  });

/** Main → worker: the answer to the {@link HostCall} with the same `id`. */
export type HostReply = { readonly type: 'reply'; readonly id: number; readonly result: HostResult };

/** Main → worker: abort `ctx.signal` of a running iteration (the cooperative stage of cancel and timeout). */
export type CancelMessage = {
	readonly type: 'cancel';
	readonly invocationId: string;
	readonly reason: 'cancel' | 'timeout';
};

/** Main → worker: import these task modules now, ahead of their first iteration (a warm-up; no answer). */
export type PreloadMessage = { readonly type: 'preload'; readonly tasks: readonly TaskRef[] };

/** Everything the main side sends on a worker's host channel. */
export type MainToWorkerMessage = HostReply | CancelMessage | PreloadMessage;

const METHODS: ReadonlySet<string> = new Set(Object.values(HostMethod));

/** A plain object as structured clone makes it (no class, no accessors survive a clone). */
function isRecord(value: unknown): value is Record<string, unknown> {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
	const prototype: unknown = Object.getPrototypeOf(value);
	return prototype === Object.prototype || prototype === null;
}

/**
 * Checks the envelope of a message from a worker: that it is a {@link HostCall} at all. What is inside (the route,
 * the channel id, the service name, the arguments) is the main side's to judge per method; a wrong envelope can
 * only come from code that bypassed the worker host, and the main side replaces that worker.
 *
 * @returns The call, or a sentence saying what is wrong with the message.
 */
export function parseHostCall(message: unknown): HostCall | string {
	if (!isRecord(message)) return 'the message is not a plain object';
	const { type, id, token, method } = message;
	if (type !== 'call') return 'the message is not a host call';
	if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return 'the call has no valid id';
	if (typeof token !== 'number' || !Number.isSafeInteger(token) || token < 0) return 'the call has no valid token';
	if (typeof method !== 'string' || !METHODS.has(method)) return 'the call names no host method';
	return message as unknown as HostCall;
}

/**
 * Whether a message from the main side is one the worker host understands (the worker trusts the main side; this
 * only keeps a stray message from throwing inside the host).
 */
export function isMainToWorkerMessage(message: unknown): message is MainToWorkerMessage {
	if (!isRecord(message)) return false;
	return (
		(message['type'] === 'reply' && typeof message['id'] === 'number' && isRecord(message['result'])) ||
		(message['type'] === 'cancel' && typeof message['invocationId'] === 'string') ||
		(message['type'] === 'preload' && Array.isArray(message['tasks']))
	);
}
