import type { Remote } from 'comlink';
import {
	type Cloneable,
	deserializeError,
	type HostApi,
	type HostResult,
	type MessagePayload,
	type RestCallOptions,
	RestMethod,
	type ServiceMap,
	type TaskContext,
	type TaskDiscord,
} from '../protocol/index.js';

/** Unwraps a {@link HostResult}: the value, or the main-side error rebuilt with its class. */
async function unwrap(result: Promise<HostResult>): Promise<Cloneable> {
	const settled = await result;
	if (settled.ok) return settled.value;
	throw deserializeError(settled.error);
}

/**
 * Builds the context of one iteration. `ctx.host` is a proxy: `ctx.host.saveScores(rows)` becomes one call over
 * the worker's persistent host channel, tagged with the invocation id so the main side knows which loop asks.
 */
export function createTaskContext(options: {
	readonly host: Remote<HostApi>;
	readonly invocationId: number;
	readonly iteration: number;
	readonly loopName: string;
	readonly signal: AbortSignal;
}): TaskContext<ServiceMap> {
	const { host, invocationId } = options;
	const services = new Proxy(Object.create(null) as Record<string, unknown>, {
		get(_target, name) {
			// `then` must stay undefined, or `await ctx.host` would treat the proxy as a promise.
			if (typeof name !== 'string' || name === 'then') return undefined;
			return (...args: Cloneable[]) => unwrap(host.callService(invocationId, name, args));
		},
	});
	const rest =
		(method: RestMethod) =>
		(route: string, restOptions: RestCallOptions = {}) =>
			unwrap(host.rest(invocationId, method, route, restOptions));
	const discord: TaskDiscord = {
		send: (channelId: string, payload: MessagePayload) => unwrap(host.sendMessage(invocationId, channelId, payload)),
		rest: {
			get: rest(RestMethod.Get),
			post: rest(RestMethod.Post),
			put: rest(RestMethod.Put),
			patch: rest(RestMethod.Patch),
			delete: rest(RestMethod.Delete),
		},
	};
	return {
		signal: options.signal,
		iteration: options.iteration,
		loopName: options.loopName,
		host: services as TaskContext<ServiceMap>['host'],
		discord,
	};
}
