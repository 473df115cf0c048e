import { vi } from 'vitest';
import { type Clock, systemClock } from '../../src/index.js';

/** The instant every loop test starts at: a Monday, midnight UTC. */
export const T0 = Date.parse('2026-01-05T00:00:00Z');

/** Milliseconds of fake time since {@link T0}. */
export function elapsed(): number {
	return Date.now() - T0;
}

/** Advances the fake clock (timers and the microtasks they release). */
export async function advance(ms: number): Promise<void> {
	await vi.advanceTimersByTimeAsync(ms);
}

/** Runs everything due now (microtasks and zero-delay timers) without moving the clock further than fake-timers must. */
export async function flush(): Promise<void> {
	await vi.advanceTimersByTimeAsync(0);
}

/** A promise for `ms` milliseconds of (fake) time: what a body or hook awaits to "take" that long. */
export function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The system clock, except that a zero-length sleep yields through a microtask instead of a timer.
 *
 * Why: @sinonjs/fake-timers schedules a zero-delay timer or immediate created *during* a tick 1 ms in the future
 * (`callAt = now + (delay || (duringTick ? 1 : 0))`), so under `advanceTimersByTimeAsync` every "sleep until a
 * past target" of the real clock costs 1 ms of fake time. Tests that assert exact start times of back-to-back
 * iterations (a catch-up burst, a late run) inject this clock; everything else uses the default clock.
 */
export const exactClock: Clock = {
	now: () => Date.now(),
	sleep(ms, signal) {
		if (ms > 0) return systemClock.sleep(ms, signal);
		return Promise.resolve().then(() => {
			if (signal?.aborted) throw signal.reason;
		});
	},
};
