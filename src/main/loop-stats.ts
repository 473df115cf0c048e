import type { Loop, LoopEventMap } from './loop.js';

/** How many recent first attempts `latenessP99Ms` is computed over. */
export const LATENESS_WINDOW = 256;

/** The summary of an error kept in a loop's status: JSON, no stack. */
export interface ErrorSummary {
	readonly name: string;
	readonly message: string;
	readonly code?: string;
}

/** What a controller has counted and measured about one loop since it created it (part of `LoopStatus`). */
export interface LoopStatsSnapshot {
	/** Times the body was started: first attempts and retries. */
	readonly attempts: number;
	/** Attempts that returned (or resolved). */
	readonly successes: number;
	/** Attempts that threw (or rejected, timed out, crashed their worker), whether retried or not. */
	readonly failures: number;
	/** Attempts that were retries of a failed attempt (after a backoff delay). */
	readonly retries: number;
	/** Failures since the last success: 0 once the loop has recovered. */
	readonly consecutiveFailures: number;
	/** Lateness (start − target, ms) of the last first attempt; retries are left out, their delay is on purpose. */
	readonly lastLatenessMs: number | null;
	/** The 99th percentile of the lateness of the last {@link LATENESS_WINDOW} first attempts, ms. */
	readonly latenessP99Ms: number | null;
	/** Targets an interval loop dropped with `missedIterations: 'skip'` because an iteration started a whole interval late. */
	readonly skippedIterations: number;
	/** Attempts whose body was still running when the next target came (it outlasted its interval or slot). */
	readonly overruns: number;
	/** Failures because the worker running the attempt died (`WorkerCrashedError`). */
	readonly workerCrashes: number;
	/** Failures because the attempt ran past `timeoutMs` (`TaskTimeoutError`). */
	readonly timeouts: number;
	/** How long the last finished attempt ran, ms. */
	readonly lastDurationMs: number | null;
	/** ISO date of the last finished attempt, or null. */
	readonly lastRunAt: string | null;
	/** ISO date of the last success, or null. */
	readonly lastSuccessAt: string | null;
	/** ISO date of the last failure (or of the error that ended a run), or null. */
	readonly lastErrorAt: string | null;
	/** The last failure's error (or the error that ended a run), kept after recovery: compare `lastErrorAt` and `lastSuccessAt`. */
	readonly lastError: ErrorSummary | null;
}

/** What {@link LoopStats} learned from one finished attempt, for the controller's logs and metrics. */
export interface AttemptReport {
	/** Whether the body ran past the next target. */
	readonly overran: boolean;
	/** The gap from the attempt's start to the next target it outlasted, ms (meaningful when `overran`). */
	readonly intervalMs: number;
}

/** What {@link LoopStats.started} learned, for the controller's logs and metrics. */
export interface StartReport {
	/** Targets skipped just before this attempt (0 for retries and non-interval loops). */
	readonly skipped: number;
}

/**
 * `error.name`, `error.message` and a string `code`; anything thrown that is not an Error by its type and value.
 * @internal
 */
export function summarizeError(error: unknown): ErrorSummary {
	if (error instanceof Error) {
		const code = (error as { code?: unknown }).code;
		return typeof code === 'string'
			? { name: error.name, message: error.message, code }
			: { name: error.name, message: error.message };
	}
	return { name: typeof error, message: String(error) };
}

function isoOrNull(time: number | null): string | null {
	return time === null ? null : new Date(time).toISOString();
}

/** The interval of an interval loop in ms, or null for `time`/`cron` loops. */
function intervalOf(loop: Loop<readonly unknown[]>): number | null {
	const seconds = loop.seconds;
	if (seconds === null) return null;
	return (seconds + 60 * (loop.minutes ?? 0) + 3600 * (loop.hours ?? 0)) * 1000;
}

/**
 * Counts and measures one loop from its events: attempts, outcomes, lateness, skipped targets and overruns. Skipped
 * targets and overruns are derived from the targets the loop reports, so the loop itself keeps no extra state.
 * Wall-clock dates (`lastRunAt`…) come from `Date.now()`; everything measured in ms comes from the loop's clock.
 * @internal
 */
export class LoopStats {
	readonly #loop: Loop<readonly unknown[]>;
	#attempts = 0;
	#successes = 0;
	#failures = 0;
	#retries = 0;
	#consecutiveFailures = 0;
	#skipped = 0;
	#overruns = 0;
	#workerCrashes = 0;
	#timeouts = 0;
	#lastLatenessMs: number | null = null;
	/** A ring of the last lateness values, made at the first attempt: an idle loop keeps no window. Float32 (7 digits of ms) halves its 2 KiB. */
	#lateness: Float32Array | undefined;
	#latenessCount = 0;
	#lastDurationMs: number | null = null;
	#lastRunAt: number | null = null;
	#lastSuccessAt: number | null = null;
	#lastErrorAt: number | null = null;
	#lastError: ErrorSummary | null = null;
	/** The target of the previous attempt of this run, for skipped targets. */
	#previousTarget: number | null = null;
	/** When the running attempt started and the next target it must finish before (loop clock). */
	#startedAt = 0;
	#deadline: number | null = null;

	constructor(loop: Loop<readonly unknown[]>) {
		this.#loop = loop;
	}

	/** A run began: targets of the previous run say nothing about this one. */
	runStarted(): void {
		this.#previousTarget = null;
	}

	/** An attempt started. */
	started(info: LoopEventMap['iterationStarted'][0]): StartReport {
		this.#attempts += 1;
		const target = info.target?.getTime() ?? null;
		this.#startedAt = (target ?? 0) + info.latenessMs;
		const interval = intervalOf(this.#loop);
		// Back-to-back loops (an interval of 0) have no next target to outlast.
		this.#deadline = interval === 0 ? null : (this.#loop.nextIteration?.getTime() ?? null);
		let skipped = 0;
		if (info.retry) {
			this.#retries += 1;
		} else {
			this.#lastLatenessMs = info.latenessMs;
			this.#lateness ??= new Float32Array(LATENESS_WINDOW);
			this.#lateness[this.#latenessCount % LATENESS_WINDOW] = info.latenessMs;
			this.#latenessCount += 1;
			// Interval targets sit on a grid: a gap of k intervals between two attempts means k − 1 were dropped.
			if (interval !== null && interval > 0 && target !== null && this.#previousTarget !== null) {
				skipped = Math.max(0, Math.round((target - this.#previousTarget) / interval) - 1);
				this.#skipped += skipped;
			}
		}
		if (target !== null) this.#previousTarget = target;
		return { skipped };
	}

	/** An attempt finished, successfully or not. */
	finished(durationMs: number, error?: { readonly error: unknown }): AttemptReport {
		const now = Date.now();
		this.#lastDurationMs = durationMs;
		this.#lastRunAt = now;
		if (error === undefined) {
			this.#successes += 1;
			this.#consecutiveFailures = 0;
			this.#lastSuccessAt = now;
		} else {
			this.#failures += 1;
			this.#consecutiveFailures += 1;
			this.failedWith(error.error);
		}
		// An attempt that started after its next target had passed (a catch-up burst) did not cause that lateness.
		const deadline = this.#deadline;
		const overran = deadline !== null && deadline > this.#startedAt && this.#startedAt + durationMs > deadline;
		if (overran) this.#overruns += 1;
		return { overran, intervalMs: deadline === null ? 0 : deadline - this.#startedAt };
	}

	/** The failing attempt's worker died (counted besides the failure). */
	workerCrashed(): void {
		this.#workerCrashes += 1;
	}

	/** The failing attempt timed out (counted besides the failure). */
	timedOut(): void {
		this.#timeouts += 1;
	}

	/** Records the error that failed an attempt or ended a run. */
	failedWith(error: unknown): void {
		this.#lastErrorAt = Date.now();
		this.#lastError = summarizeError(error);
	}

	/** The 99th percentile (nearest rank) of the lateness window, or null before the first attempt. */
	latenessP99(): number | null {
		const size = Math.min(this.#latenessCount, LATENESS_WINDOW);
		if (size === 0 || this.#lateness === undefined) return null;
		const sorted = this.#lateness.slice(0, size).sort();
		const value = sorted[Math.ceil(0.99 * size) - 1];
		// Rounded to the µs: a float32 of a fractional ms reads back with noise in the last digits.
		return value === undefined ? null : Math.round(value * 1000) / 1000;
	}

	/** A JSON snapshot. */
	snapshot(): LoopStatsSnapshot {
		return {
			attempts: this.#attempts,
			successes: this.#successes,
			failures: this.#failures,
			retries: this.#retries,
			consecutiveFailures: this.#consecutiveFailures,
			lastLatenessMs: this.#lastLatenessMs,
			latenessP99Ms: this.latenessP99(),
			skippedIterations: this.#skipped,
			overruns: this.#overruns,
			workerCrashes: this.#workerCrashes,
			timeouts: this.#timeouts,
			lastDurationMs: this.#lastDurationMs,
			lastRunAt: isoOrNull(this.#lastRunAt),
			lastSuccessAt: isoOrNull(this.#lastSuccessAt),
			lastErrorAt: isoOrNull(this.#lastErrorAt),
			lastError: this.#lastError,
		};
	}
}
