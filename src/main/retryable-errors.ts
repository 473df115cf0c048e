import {
	PoolQueueFullError,
	remoteClassChain,
	TaskError,
	TaskTimeoutError,
	WorkerCrashedError,
} from '../protocol/index.js';

/** Error codes of transient network failures (Node's socket errors and undici's connect/socket errors). */
export const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
	'ECONNRESET',
	'ECONNREFUSED',
	'ECONNABORTED',
	'ETIMEDOUT',
	'EPIPE',
	'EAI_AGAIN',
	'ENETUNREACH',
	'EHOSTUNREACH',
	'ENOTCONN',
	'UND_ERR_CONNECT_TIMEOUT',
	'UND_ERR_SOCKET',
	'UND_ERR_CLOSED',
	'UND_ERR_HEADERS_TIMEOUT',
	'UND_ERR_BODY_TIMEOUT',
]);

/** How deep the default matchers look into `cause` chains (undici wraps socket errors in `TypeError: fetch failed`). */
const MAX_CAUSE_DEPTH = 4;

/**
 * Names of the classes on `error`'s prototype chain, most derived first; for an error rebuilt from a worker,
 * the chain recorded where it was thrown.
 * @internal
 */
export function classNamesOf(error: unknown): readonly string[] {
	const remote = remoteClassChain(error);
	if (remote) return remote;
	const names: string[] = [];
	if (typeof error !== 'object' || error === null) return names;
	let prototype = Object.getPrototypeOf(error) as { constructor?: { name?: unknown } } | null;
	while (prototype && prototype !== Object.prototype && names.length < 32) {
		const name = prototype.constructor?.name;
		if (typeof name === 'string' && name !== '') names.push(name);
		prototype = Object.getPrototypeOf(prototype) as typeof prototype;
	}
	return names;
}

function* causeChain(error: unknown): Generator<Record<string, unknown>> {
	let current = error;
	for (let depth = 0; depth <= MAX_CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
		yield current as Record<string, unknown>;
		current = (current as { cause?: unknown }).cause;
	}
}

/**
 * Matches transient network errors: a `code` in {@link RETRYABLE_NETWORK_CODES} on the error or anywhere
 * in its cause chain. It exists to be passed to `addExceptionType`/`removeExceptionType` (it is in the
 * default set); it is never thrown.
 */
export class RetryableNetworkError extends Error {
	static override [Symbol.hasInstance](value: unknown): boolean {
		for (const error of causeChain(value)) {
			if (typeof error['code'] === 'string' && RETRYABLE_NETWORK_CODES.has(error['code'])) return true;
		}
		return false;
	}
}

/**
 * Matches Discord REST failures that a retry can fix: discord.js `HTTPError` (a 5xx without a JSON body,
 * or a request that kept failing), `DiscordAPIError` with status >= 500, and `RateLimitError`. 4xx errors
 * (403 Missing Permissions, 404 Unknown Channel) are not matched: retrying them cannot help (discord.py
 * PR #5193). Never thrown; in the default set.
 */
export class RetryableDiscordError extends Error {
	static override [Symbol.hasInstance](value: unknown): boolean {
		for (const error of causeChain(value)) {
			const names = classNamesOf(error);
			if (names.includes('HTTPError') || names.includes('RateLimitError')) return true;
			if (names.includes('DiscordAPIError') && typeof error['status'] === 'number' && error['status'] >= 500) {
				return true;
			}
		}
		return false;
	}
}

/**
 * Matches timeouts: an error named `TimeoutError` (`AbortSignal.timeout()`, undici) anywhere in the cause
 * chain, or discord-tasks' own {@link TaskTimeoutError}. Never thrown; in the default set.
 */
export class RetryableTimeoutError extends Error {
	static override [Symbol.hasInstance](value: unknown): boolean {
		if (value instanceof TaskTimeoutError) return true;
		for (const error of causeChain(value)) {
			if (error['name'] === 'TimeoutError') return true;
		}
		return false;
	}
}

/** A class (or class-like matcher) given to `addExceptionType`. */
export type ExceptionType = abstract new (...args: never[]) => Error;

/**
 * The exception types a new Loop retries with backoff when `reconnect` is on: the Node and discord.js
 * equivalents of discord.py's default set (E1), plus worker crashes, task timeouts and a full pool queue.
 */
export const DEFAULT_EXCEPTION_TYPES: readonly ExceptionType[] = Object.freeze([
	RetryableNetworkError,
	RetryableDiscordError,
	RetryableTimeoutError,
	WorkerCrashedError,
	TaskTimeoutError,
	PoolQueueFullError,
]);

/**
 * Whether `error` is of `type`: `instanceof` for local errors (and the matchers above), or by class name for
 * errors rebuilt from a worker (the class chain recorded where they were thrown). A {@link TaskError} is
 * matched by its cause, the error the task body threw.
 * @internal
 */
export function matchesExceptionType(error: unknown, type: ExceptionType): boolean {
	const subject = error instanceof TaskError ? error.cause : error;
	try {
		if (subject instanceof type) return true;
	} catch {
		// A user class with a throwing Symbol.hasInstance is treated as "no match".
	}
	const remote = remoteClassChain(subject);
	return remote?.includes(type.name) === true;
}
