/** Discord's epoch (2015-01-01T00:00:00Z) in ms; snowflake timestamps count from it. */
const DISCORD_EPOCH_MS = 1_420_070_400_000n;
const INCREMENT_BITS = 12n;
const MAX_INCREMENT = (1n << INCREMENT_BITS) - 1n;

/**
 * Makes unique, increasing snowflake ids from a clock and a counter. discord.js derives `createdAt` from the
 * timestamp bits, so generated ids carry the real creation time; the counter (never `Math.random()`) keeps
 * ids unique and ordered within one millisecond.
 * @internal
 */
export class SnowflakeGenerator {
	readonly #now: () => number;
	#lastTimestamp = 0n;
	#increment = 0n;

	/** @param now - The clock, `Date.now` unless a test needs fixed times. */
	constructor(now: () => number = Date.now) {
		this.#now = now;
	}

	/** The next id, as the decimal string Discord uses on the wire. */
	next(): string {
		let timestamp = BigInt(this.#now()) - DISCORD_EPOCH_MS;
		if (timestamp <= this.#lastTimestamp) {
			timestamp = this.#lastTimestamp;
			this.#increment += 1n;
			// 4096 ids in one millisecond: borrow the next millisecond rather than repeat an id.
			if (this.#increment > MAX_INCREMENT) {
				timestamp += 1n;
				this.#increment = 0n;
			}
		} else {
			this.#increment = 0n;
		}
		this.#lastTimestamp = timestamp;
		// Worker id 1, process id 0: any constant works, the increment makes the id unique.
		return ((timestamp << 22n) | (1n << 17n) | this.#increment).toString();
	}
}
