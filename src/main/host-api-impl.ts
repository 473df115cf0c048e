import type { ServiceMap } from '../protocol/index.js';
import {
	type Cloneable,
	DiscordAccessError,
	describeUncloneable,
	describeValue,
	ErrorCode,
	type HostApi,
	type HostResult,
	type MessagePayload,
	type RestCallOptions,
	type RestMethod,
	serializeError,
} from '../protocol/index.js';

/** What a loop's tasks may do on Discord; anything else is refused. */
export interface DiscordAllowlist {
	/** Channel ids `ctx.discord.send()` may post to, or `'*'` for any. @defaultValue '*' */
	readonly channels?: readonly string[] | '*';
	/**
	 * REST routes `ctx.discord.rest` may call: `'GET /channels/:id/messages'` style patterns (`:param` matches one
	 * path segment, `*` the rest), or `'*'` for any. @defaultValue [] (no raw REST access)
	 */
	readonly routes?: readonly string[] | '*';
}

/** Discord access on the main thread, implemented by the LoopController on top of a discord.js client. @internal */
export interface DiscordBridge {
	send(channelId: string, payload: MessagePayload): Promise<Cloneable>;
	rest(method: RestMethod, route: string, options: RestCallOptions): Promise<Cloneable>;
}

/** Who is calling: the loop and iteration behind an invocation id. @internal */
export interface InvocationScope {
	readonly loopName: string;
	readonly iteration: number;
	readonly allowlist: DiscordAllowlist | undefined;
}

function ok(value: unknown, what: string): HostResult {
	const problem = describeUncloneable(value, what);
	if (problem) {
		return {
			ok: false,
			error: serializeError(new TypeError(`${what} cannot be sent back to the worker: ${problem}`)),
		};
	}
	return { ok: true, value: value as Cloneable };
}

/**
 * Whether a route is a plain path: no `.`/`..` segments (also percent-encoded) and no encoded slashes. URL parsing
 * in the REST client would resolve them, so `/channels/1/../../guilds/2/bans` could otherwise escape an allowlist
 * entry like `GET /channels/1/*`.
 * @internal
 */
export function isPlainRoute(route: string): boolean {
	const path = route.split('?')[0] ?? '';
	if (!path.startsWith('/') || path.includes('\\') || path.includes('//')) return false;
	return path
		.split('/')
		.slice(1)
		.every((segment) => {
			let decoded: string;
			try {
				decoded = decodeURIComponent(segment);
			} catch {
				return false;
			}
			return decoded !== '.' && decoded !== '..' && !decoded.includes('/') && !decoded.includes('\\');
		});
}

/** Compiles `'GET /channels/:id/messages'` into a matcher of method + route. */
function routeMatcher(pattern: string): (method: string, route: string) => boolean {
	const [maybeMethod, ...rest] = pattern.trim().split(/\s+/);
	const hasMethod = rest.length > 0;
	const method = hasMethod ? (maybeMethod ?? '').toLowerCase() : '*';
	const path = hasMethod ? rest.join(' ') : (maybeMethod ?? '');
	const source = path
		.split('/')
		.map((segment) =>
			segment === '*' ? '.*' : segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
		)
		.join('/');
	const regex = new RegExp(`^${source}/?$`);
	return (m, route) => (method === '*' || method === m) && regex.test(route.split('?')[0] ?? '');
}

/**
 * Whether an allowlist lets a task call `method route`.
 * @internal
 */
export function isRouteAllowed(allowlist: DiscordAllowlist | undefined, method: string, route: string): boolean {
	const routes = allowlist?.routes ?? [];
	if (routes === '*') return true;
	return routes.some((pattern) => routeMatcher(pattern)(method, route));
}

/**
 * Whether an allowlist lets a task post to `channelId`.
 * @internal
 */
export function isChannelAllowed(allowlist: DiscordAllowlist | undefined, channelId: string): boolean {
	const channels = allowlist?.channels ?? '*';
	return channels === '*' || channels.includes(channelId);
}

/**
 * The main-thread implementation of {@link HostApi}: the only code that runs services and touches Discord on a
 * worker's behalf. Every answer is an envelope, so errors keep their class and fields across the boundary.
 * @internal
 */
export function createHostApi(options: {
	readonly services: ServiceMap;
	readonly scope: (invocationId: number) => InvocationScope | undefined;
	readonly discord: () => DiscordBridge | undefined;
}): HostApi {
	const guard = async (fn: () => Promise<HostResult>): Promise<HostResult> => {
		try {
			return await fn();
		} catch (error) {
			return { ok: false, error: serializeError(error) };
		}
	};
	const bridge = (scope: InvocationScope): DiscordBridge => {
		const discord = options.discord();
		if (!discord) {
			throw new DiscordAccessError(
				`Loop '${scope.loopName}' used ctx.discord, but its pool is not bound to a discord.js client: create the loop through a LoopController({ client })`,
				{ code: ErrorCode.DiscordUnavailable },
			);
		}
		return discord;
	};
	/** The caller's scope; a call from an iteration that has ended (a task's leftover timer) is refused. */
	const scopeOf = (invocationId: number): InvocationScope => {
		const scope = options.scope(invocationId);
		if (!scope) {
			throw new DiscordAccessError(
				`A task called the main thread after its iteration (invocation ${invocationId}) had ended: calls must finish before the task returns`,
				{ code: ErrorCode.DiscordAccessDenied },
			);
		}
		return scope;
	};
	return {
		callService: (invocationId, name, args) =>
			guard(async () => {
				scopeOf(invocationId);
				const service = Object.hasOwn(options.services, name) ? options.services[name] : undefined;
				if (!service) {
					const known = Object.keys(options.services);
					throw new DiscordAccessError(
						`The task called ctx.host.${name}(), but the pool has no service '${name}' (services: ${known.length ? known.join(', ') : 'none'})`,
						{ code: ErrorCode.ServiceNotFound },
					);
				}
				return ok(await service(...args), `The result of service '${name}'`);
			}),
		sendMessage: (invocationId, channelId, payload) =>
			guard(async () => {
				const scope = scopeOf(invocationId);
				if (!isChannelAllowed(scope.allowlist, channelId)) {
					throw new DiscordAccessError(
						`Loop '${scope.loopName}' may not send to channel ${channelId}: it is not in the loop's discord.channels allowlist`,
						{ code: ErrorCode.DiscordAccessDenied },
					);
				}
				return ok(await bridge(scope).send(channelId, payload), 'The sent message');
			}),
		rest: (invocationId, method, route, restOptions) =>
			guard(async () => {
				const scope = scopeOf(invocationId);
				if (typeof route !== 'string' || !isPlainRoute(route)) {
					throw new DiscordAccessError(
						`A REST route must be a path starting with '/' without '.', '..' or empty segments, got ${describeValue(route)}`,
						{ code: ErrorCode.DiscordAccessDenied },
					);
				}
				if (!isRouteAllowed(scope.allowlist, method, route)) {
					throw new DiscordAccessError(
						`Loop '${scope.loopName}' may not call ${method.toUpperCase()} ${route}: it is not in the loop's discord.routes allowlist`,
						{ code: ErrorCode.DiscordAccessDenied },
					);
				}
				return ok(
					await bridge(scope).rest(method, route, restOptions),
					`The response of ${method.toUpperCase()} ${route}`,
				);
			}),
	};
}
