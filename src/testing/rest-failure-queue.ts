import { STATUS_CODES } from 'node:http';
import { invalidOption } from './invalid-option.js';
import { matchSegments, parseRoutePattern } from './rest-router.js';

/** A REST failure to inject, see {@link LoopbackGateway.failRest}. */
export interface RestFailureOptions {
	/** HTTP status, 400–599: 429 rate limit, 5xx server errors, 403 with a `code`... */
	readonly status: number;
	/** How many matching requests fail before this failure is used up; `Infinity` never runs out. @defaultValue `1` */
	readonly times?: number;
	/** For 429: the `Retry-After` header and the body's `retry_after`, in seconds (fractions allowed). @defaultValue `0.1` */
	readonly retryAfterSeconds?: number;
	/** Only requests with this method (case-insensitive). @defaultValue any method */
	readonly method?: string;
	/**
	 * Only requests to this route: a pattern in the {@link LoopbackGateway.route} syntax (`'/channels/:id/messages'`)
	 * or a RegExp tested against the normalised path (no `/api/vN`, no query). @defaultValue any route
	 */
	readonly route?: string | RegExp;
	/** Discord's JSON error code (50013 Missing Permissions, 10003 Unknown Channel...). @defaultValue `0` */
	readonly code?: number;
	/** The JSON `message`. @defaultValue Discord's message for `code`, or `'<status>: <reason>'` */
	readonly message?: string;
	/** For 429: a global rate limit (`X-RateLimit-Global`, scope `global`). @defaultValue `false` */
	readonly global?: boolean;
}

/**
 * The response an injected failure produces.
 * @internal
 */
export interface InjectedFailureResponse {
	readonly status: number;
	readonly headers: Readonly<Record<string, string>>;
	readonly body: { readonly [key: string]: string | number | boolean };
}

interface PendingFailure {
	readonly status: number;
	remaining: number;
	readonly retryAfterSeconds: number;
	readonly method: string | undefined;
	readonly matches: (path: string) => boolean;
	readonly code: number;
	readonly message: string | undefined;
	readonly global: boolean;
}

/** Messages Discord sends with the error codes tests inject most. */
const ERROR_MESSAGES: Readonly<Record<number, string>> = {
	10003: 'Unknown Channel',
	10004: 'Unknown Guild',
	10007: 'Unknown Member',
	10008: 'Unknown Message',
	10013: 'Unknown User',
	40001: 'Unauthorized',
	50001: 'Missing Access',
	50006: 'Cannot send an empty message',
	50013: 'Missing Permissions',
	50035: 'Invalid Form Body',
};

/** The default Retry-After of an injected 429: short, so tests stay fast. */
const DEFAULT_RETRY_AFTER_SECONDS = 0.1;

function isPositiveCount(value: unknown): value is number {
	return value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && (value as number) > 0);
}

function routeMatcher(route: string | RegExp | undefined): (path: string) => boolean {
	if (route === undefined) return () => true;
	if (route instanceof RegExp) {
		return (path) => {
			// A /g or /y RegExp keeps state between calls; every request is a fresh test.
			route.lastIndex = 0;
			return route.test(path);
		};
	}
	const segments = parseRoutePattern(route, 'failRest.route');
	return (path) => matchSegments(segments, path) !== null;
}

/**
 * Failures waiting to be served to REST requests, consumed in the order they were added: the first pending
 * failure whose method and route match a request answers it.
 * @internal
 */
export class RestFailureQueue {
	readonly #pending: PendingFailure[] = [];

	/** Checks and queues a failure. @throws {@link InvalidOptionError} naming the bad field. */
	add(options: RestFailureOptions): void {
		if (typeof options !== 'object' || options === null) throw invalidOption('failRest', 'an object', options);
		const { status, times = 1, retryAfterSeconds = DEFAULT_RETRY_AFTER_SECONDS, method, route } = options;
		const { code = 0, message, global = false } = options;
		if (!Number.isSafeInteger(status) || status < 400 || status > 599) {
			throw invalidOption('failRest.status', 'an HTTP error status from 400 to 599', status);
		}
		if (!isPositiveCount(times)) throw invalidOption('failRest.times', 'a positive integer or Infinity', times);
		if (typeof retryAfterSeconds !== 'number' || !Number.isFinite(retryAfterSeconds) || retryAfterSeconds < 0) {
			throw invalidOption('failRest.retryAfterSeconds', 'a finite number of seconds >= 0', retryAfterSeconds);
		}
		if (method !== undefined && (typeof method !== 'string' || !/^[a-z]+$/i.test(method))) {
			throw invalidOption('failRest.method', "an HTTP method like 'POST'", method);
		}
		if (route !== undefined && typeof route !== 'string' && !(route instanceof RegExp)) {
			throw invalidOption('failRest.route', 'a route pattern string or a RegExp', route);
		}
		if (!Number.isSafeInteger(code) || code < 0) {
			throw invalidOption('failRest.code', 'a Discord error code (a non-negative integer)', code);
		}
		if (message !== undefined && typeof message !== 'string') {
			throw invalidOption('failRest.message', 'a string', message);
		}
		if (typeof global !== 'boolean') throw invalidOption('failRest.global', 'a boolean', global);
		this.#pending.push({
			status,
			remaining: times,
			retryAfterSeconds,
			method: method?.toUpperCase(),
			matches: routeMatcher(route),
			code,
			message,
			global,
		});
	}

	/** How many failures are still waiting (a failure with `times: 3` counts as one). */
	get size(): number {
		return this.#pending.length;
	}

	clear(): void {
		this.#pending.length = 0;
	}

	/** Consumes the first failure matching the request and returns its response, or `undefined`. */
	take(method: string, path: string): InjectedFailureResponse | undefined {
		const index = this.#pending.findIndex(
			(failure) => (failure.method === undefined || failure.method === method) && failure.matches(path),
		);
		const failure = this.#pending[index];
		if (failure === undefined) return undefined;
		failure.remaining -= 1;
		if (failure.remaining <= 0) this.#pending.splice(index, 1);
		return failureResponse(failure);
	}
}

function failureResponse(failure: PendingFailure): InjectedFailureResponse {
	const { status, code, global } = failure;
	if (status === 429) {
		const retryAfter = failure.retryAfterSeconds;
		return {
			status,
			headers: {
				'Retry-After': String(retryAfter),
				'X-RateLimit-Scope': global ? 'global' : 'user',
				...(global ? { 'X-RateLimit-Global': 'true' } : {}),
			},
			body: {
				message: failure.message ?? 'You are being rate limited.',
				retry_after: retryAfter,
				global,
				...(code === 0 ? {} : { code }),
			},
		};
	}
	const message = failure.message ?? ERROR_MESSAGES[code] ?? `${status}: ${STATUS_CODES[status] ?? 'Error'}`;
	return { status, headers: {}, body: { message, code } };
}
