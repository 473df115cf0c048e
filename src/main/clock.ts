import { type AbortWatcher, unwatchAbort, watchAbort } from './abort-watchers.js';

/**
 * Where the Loop reads and waits for time. Every wait in the library goes through one `Clock`, so tests
 * drive schedules, retries and timeouts with fake timers, and a later scheduler can supply its own. Loops on
 * {@link systemClock} wait in the process's shared timer core instead of calling `sleep()` once per wait (same
 * global timers, so fake timers still apply); a clock of the user's is awaited through `sleep()`.
 */
export interface Clock {
	/** Wall-clock time in ms since the epoch (what targets and times of day are expressed in). */
	now(): number;
	/**
	 * Resolves after `ms` milliseconds, or rejects with `signal.reason` as soon as `signal` aborts.
	 * Implementations may wake a little early; callers that need "not before T" use {@link sleepUntil}. A loop
	 * passes the same long-lived signal to many sleeps, so an implementation must not leave a listener on it once
	 * a sleep has settled.
	 */
	sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** setTimeout's ceiling: a longer delay overflows a 32-bit int and fires at once. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

function abortReason(signal: AbortSignal): unknown {
	return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/**
 * The default clock: `Date.now()` and the **global** `setTimeout` (which vitest's fake timers replace;
 * `node:timers/promises` is not faked). Delays past {@link MAX_TIMER_DELAY_MS} are split into chunks.
 */
export const systemClock: Clock = {
	now: () => Date.now(),
	sleep(ms, signal) {
		if (signal?.aborted) return Promise.reject(abortReason(signal));
		return new Promise<void>((resolve, reject) => {
			let remaining = Math.max(0, ms);
			const sleep: PendingSleep = {
				clear: () => {},
				onAbort(aborted) {
					sleep.clear();
					reject(abortReason(aborted));
				},
			};
			const finish = () => {
				if (signal) unwatchAbort(signal, sleep);
				resolve();
			};
			const arm = () => {
				if (remaining <= 0) {
					// setTimeout(fn, 0) waits at least 1 ms in Node, so a catch-up burst would drift by 1 ms per
					// iteration; a zero-length sleep only has to yield to the event loop once (C18).
					const immediate = setImmediate(finish);
					sleep.clear = () => clearImmediate(immediate);
					return;
				}
				const chunk = Math.min(remaining, MAX_TIMER_DELAY_MS);
				remaining -= chunk;
				const timer = setTimeout(() => (remaining > 0 ? arm() : finish()), chunk);
				sleep.clear = () => clearTimeout(timer);
			};
			// One 'abort' listener per signal, not per sleep: a loop sleeps on one long-lived signal thousands of times.
			if (signal) watchAbort(signal, sleep);
			arm();
		});
	},
};

/** A sleep that a signal may end early. */
interface PendingSleep extends AbortWatcher {
	clear: () => void;
}

/**
 * Sleeps until `clock.now() >= target`. Node timers can fire up to ~1 ms early; this re-arms until the
 * target has really passed, so an iteration never starts before its time. A past target still yields once.
 */
export async function sleepUntil(clock: Clock, target: number, signal?: AbortSignal): Promise<void> {
	await clock.sleep(Math.max(0, target - clock.now()), signal);
	for (let now = clock.now(); now < target; now = clock.now()) {
		await clock.sleep(target - now, signal);
	}
}
