import type { IncomingHttpHeaders } from 'node:http';
import { invalidOption } from './invalid-option.js';
import type { JsonValue } from './json-value.js';

/** One file of a multipart request (`files[n]` in a discord.js upload). */
export interface RestFile {
	/** The form field, e.g. `'files[0]'`. */
	readonly field: string;
	readonly filename: string;
	readonly contentType: string;
	readonly data: Buffer;
}

type ParamsOf<Path extends string> = Path extends `${string}:${infer Name}/${infer Rest}`
	? { readonly [Key in Name]: string } & ParamsOf<Rest>
	: Path extends `${string}:${infer Name}`
		? { readonly [Key in Name]: string }
		: Record<never, never>;

/**
 * The `params` of a route, inferred from its pattern: `RouteParams<'/channels/:id/messages/:mid'>` is
 * `{ id: string; mid: string }`. A pattern that is not a literal type gives a string record.
 */
export type RouteParams<Path extends string> = string extends Path
	? { readonly [key: string]: string | undefined }
	: ParamsOf<Path>;

/** A REST request as a route handler sees it. */
export interface LoopbackRestRequest<Path extends string = string> {
	/** Upper-case method: `'GET'`, `'POST'`... */
	readonly method: string;
	/** The path with the `/api/vN` (or bare `/api`) prefix and the query string removed: `'/channels/1/messages'`. */
	readonly path: string;
	/** Values of the pattern's `:params`, URL-decoded. */
	readonly params: RouteParams<Path>;
	readonly query: URLSearchParams;
	readonly headers: IncomingHttpHeaders;
	/** The JSON body, or multipart `payload_json`, parsed; `null` when there is none. */
	readonly body: JsonValue | null;
	/** Files of a multipart body. */
	readonly files: readonly RestFile[];
}

/** What a route handler answers. */
export interface LoopbackRestResponse {
	/** @defaultValue `200` */
	readonly status?: number;
	/**
	 * Serialised as JSON, unless it is a `Uint8Array` (sent as is). Left out, or with status 204, no body is sent.
	 */
	readonly body?: unknown;
	/** Extra response headers. `Content-Type: application/json` is set for JSON bodies. */
	readonly headers?: Readonly<Record<string, string>>;
}

/** A REST route handler. It may be async; a thrown error becomes a 500 recorded on the request. */
export type LoopbackRestHandler<Path extends string = string> = (
	request: LoopbackRestRequest<Path>,
) => LoopbackRestResponse | Promise<LoopbackRestResponse>;

/** A route that matched a request. */
export interface RouteMatch {
	/** The pattern that matched, e.g. `'/channels/:id'`. */
	readonly pattern: string;
	readonly params: { readonly [key: string]: string | undefined };
	readonly handler: LoopbackRestHandler;
}

interface Route {
	readonly method: string;
	readonly pattern: string;
	readonly segments: readonly string[];
	readonly handler: LoopbackRestHandler;
}

const METHOD_PATTERN = /^[A-Z]+$/;
const API_PREFIX = /^\/api(?:\/v\d+)?(?=\/|$)/;

/**
 * Strips the `/api/vN` or bare `/api` prefix discord.js puts in front of every route, so `/api/v10/users/@me`,
 * `/api/users/@me` and `/users/@me` are the same route. A trailing slash is dropped too.
 * @internal
 */
export function normalizeRestPath(pathname: string): string {
	const stripped = pathname.replace(API_PREFIX, '');
	const trimmed = stripped.length > 1 && stripped.endsWith('/') ? stripped.slice(0, -1) : stripped;
	return trimmed === '' ? '/' : trimmed;
}

function splitPath(path: string): string[] {
	return path.split('/').slice(1);
}

/**
 * Checks a route pattern and returns its segments.
 * @internal
 */
export function parseRoutePattern(pattern: unknown, name: string): readonly string[] {
	if (typeof pattern !== 'string' || !pattern.startsWith('/') || /[?#\s]/.test(pattern)) {
		throw invalidOption(name, "a path starting with '/' without query or spaces, like '/channels/:id'", pattern);
	}
	const segments = splitPath(normalizeRestPath(pattern));
	for (const segment of segments) {
		if (segment === ':') throw invalidOption(name, 'a path whose `:params` have names', pattern);
	}
	return segments;
}

/**
 * Matches `segments` of a pattern against a normalised path; `null` when they do not match.
 * @internal
 */
export function matchSegments(
	segments: readonly string[],
	path: string,
): { readonly [key: string]: string | undefined } | null {
	const parts = splitPath(path);
	if (parts.length !== segments.length) return null;
	const params: Record<string, string> = {};
	for (const [index, segment] of segments.entries()) {
		const part = parts[index] ?? '';
		if (segment.startsWith(':')) {
			if (part === '') return null;
			try {
				params[segment.slice(1)] = decodeURIComponent(part);
			} catch {
				return null;
			}
		} else if (segment !== part) {
			return null;
		}
	}
	return params;
}

/**
 * A tiny method + path-pattern router (`/channels/:id/messages/:mid`). The route added last wins, so routes
 * added by a test override the built-in ones, and built-ins register generic patterns before specific ones.
 * @internal
 */
export class RestRouter {
	readonly #routes: Route[] = [];

	/**
	 * Adds a route.
	 * @throws {@link InvalidOptionError} for a method that is not an upper-case word or a malformed pattern.
	 */
	add<Path extends string>(method: string, pattern: Path, handler: LoopbackRestHandler<Path>): void {
		const upper = typeof method === 'string' ? method.toUpperCase() : method;
		if (typeof upper !== 'string' || !METHOD_PATTERN.test(upper)) {
			throw invalidOption('method', "an HTTP method like 'GET' or 'POST'", method);
		}
		const segments = parseRoutePattern(pattern, 'path');
		if (typeof handler !== 'function') throw invalidOption('handler', 'a function', handler);
		// The params type is only known to the caller; at run time it is the string record matchSegments builds.
		this.#routes.push({ method: upper, pattern, segments, handler: handler as unknown as LoopbackRestHandler });
	}

	/** The route for a request, or `undefined` when none matches. */
	match(method: string, path: string): RouteMatch | undefined {
		for (let index = this.#routes.length - 1; index >= 0; index -= 1) {
			const route = this.#routes[index];
			if (route === undefined || route.method !== method) continue;
			const params = matchSegments(route.segments, path);
			if (params !== null) return { pattern: route.pattern, params, handler: route.handler };
		}
		return undefined;
	}
}
