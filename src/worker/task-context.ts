import {
	type Cloneable,
	HostMethod,
	type MessagePayload,
	type RestCallOptions,
	RestMethod,
	type ServiceMap,
	type TaskContext,
	type TaskDiscord,
} from '../protocol/index.js';
import type { HostClient } from './host-client.js';
import type { IterationSignal } from './iteration-signal.js';

/** Rejects a non-string before it is sent: a bug in a task gets a TypeError, not a refusal from the main side. */
function stringOrReject(value: unknown, what: string): Promise<never> | undefined {
	return typeof value === 'string'
		? undefined
		: Promise.reject(new TypeError(`${what} must be a string, got ${value === null ? 'null' : typeof value}`));
}

/**
 * The context of one iteration. `ctx.host` and `ctx.discord` are built on first use: most bodies touch neither,
 * and an iteration should cost them nothing. Every call goes over the worker's host channel with the iteration's
 * token, which is how the main side knows which loop asks and what it may do.
 */
export class IterationContext implements TaskContext<ServiceMap> {
	readonly iteration: number;
	readonly loopName: string;
	readonly #client: HostClient;
	readonly #token: number;
	readonly #signal: IterationSignal;
	#host: TaskContext<ServiceMap>['host'] | undefined;
	#discord: TaskDiscord | undefined;

	constructor(client: HostClient, token: number, iteration: number, loopName: string, signal: IterationSignal) {
		this.#client = client;
		this.#token = token;
		this.iteration = iteration;
		this.loopName = loopName;
		this.#signal = signal;
	}

	/** Aborts on `loop.cancel()` and at the iteration's `timeoutMs` (made on first use). */
	get signal(): AbortSignal {
		return this.#signal.signal;
	}

	/** `ctx.host.saveScores(rows)` becomes one call to the main thread's service `saveScores`. */
	get host(): TaskContext<ServiceMap>['host'] {
		const client = this.#client;
		const token = this.#token;
		this.#host ??= new Proxy(Object.create(null) as Record<string, unknown>, {
			get(_target, name) {
				// `then` must stay undefined, or `await ctx.host` would treat the proxy as a promise.
				if (typeof name !== 'string' || name === 'then') return undefined;
				return (...args: Cloneable[]) => client.call({ method: HostMethod.CallService, token, name, args });
			},
		}) as TaskContext<ServiceMap>['host'];
		return this.#host;
	}

	/** Discord through the main thread's client, checked there against the loop's allowlist. */
	get discord(): TaskDiscord {
		if (this.#discord) return this.#discord;
		const client = this.#client;
		const token = this.#token;
		const rest =
			(restMethod: RestMethod) =>
			(route: string, options: RestCallOptions = {}): Promise<Cloneable> =>
				stringOrReject(route, 'A REST route') ??
				client.call({ method: HostMethod.Rest, token, restMethod, route, options });
		this.#discord = {
			send: (channelId: string, payload: MessagePayload) =>
				stringOrReject(channelId, 'A channel id') ??
				client.call({ method: HostMethod.SendMessage, token, channelId, payload }),
			rest: {
				get: rest(RestMethod.Get),
				post: rest(RestMethod.Post),
				put: rest(RestMethod.Put),
				patch: rest(RestMethod.Patch),
				delete: rest(RestMethod.Delete),
			},
		};
		return this.#discord;
	}
}
