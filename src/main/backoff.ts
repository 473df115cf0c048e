import { checkedRandom } from '../protocol/index.js';

/** Options of {@link ExponentialBackoff}. */
export interface ExponentialBackoffOptions {
	/**
	 * The base delay: the n-th consecutive delay is drawn from `[0, baseMs * 2 ** n]`.
	 * @defaultValue 1000 (discord.py's `base=1` second)
	 */
	readonly baseMs?: number;
	/**
	 * Return whole milliseconds drawn from `0 … baseMs * 2 ** n - 1` instead of a uniform float (discord.py's `integral`).
	 * @defaultValue false
	 */
	readonly integral?: boolean;
	/**
	 * Random source in `[0, 1)`, injectable so tests are deterministic; a draw outside `[0, 1]` throws an
	 * `InvalidOptionError`. @defaultValue Math.random
	 */
	readonly random?: () => number;
	/** Monotonic-enough time source in ms, used for the reset window. @defaultValue Date.now */
	readonly now?: () => number;
}

/** The exponent stops growing here: the largest delay is `baseMs * 2 ** 10` (B2, B3). */
export const MAX_BACKOFF_EXPONENT = 10;

/**
 * The backoff discord.py uses between retries (`discord/backoff.py`, rules B1–B7): every call to
 * {@link ExponentialBackoff.delay} doubles the upper bound (2, 4, 8, … 1024 × base) and draws a random
 * delay below it; when more than `baseMs * 2 ** 11` has passed since the previous call, it starts over.
 * A success does not reset it (B5): only time does.
 *
 * @example
 * ```ts
 * const backoff = new ExponentialBackoff({ random: () => 0.5 });
 * backoff.delay(); // 1000 (half of 2 s)
 * backoff.delay(); // 2000 (half of 4 s)
 * ```
 */
export class ExponentialBackoff {
	readonly #baseMs: number;
	readonly #integral: boolean;
	readonly #random: () => number;
	readonly #now: () => number;
	readonly #resetAfterMs: number;
	#exponent = 0;
	#lastInvocation: number;

	constructor(options: ExponentialBackoffOptions = {}) {
		this.#baseMs = options.baseMs ?? 1000;
		this.#integral = options.integral ?? false;
		// A user's source is checked at every draw: a NaN or negative delay would make a retry loop spin.
		this.#random = options.random ? checkedRandom(options.random) : Math.random;
		this.#now = options.now ?? Date.now;
		// B1: reset threshold base * 2**11 (2048 s for a 1 s base).
		this.#resetAfterMs = this.#baseMs * 2 ** (MAX_BACKOFF_EXPONENT + 1);
		this.#lastInvocation = this.#now();
	}

	/** The current exponent (0 before the first delay). */
	get exponent(): number {
		return this.#exponent;
	}

	/**
	 * The next delay in ms (B2): resets the exponent if more than the reset window passed since the previous
	 * call, increments it (capped at 10), then draws from `[0, baseMs * 2 ** exponent]`.
	 */
	delay(): number {
		const now = this.#now();
		const elapsed = now - this.#lastInvocation;
		this.#lastInvocation = now;
		if (elapsed > this.#resetAfterMs) this.#exponent = 0;
		this.#exponent = Math.min(this.#exponent + 1, MAX_BACKOFF_EXPONENT);
		const bound = this.#baseMs * 2 ** this.#exponent;
		return this.#integral ? Math.floor(this.#random() * bound) : this.#random() * bound;
	}
}
