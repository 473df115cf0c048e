import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { type Clock, MAX_TIMER_DELAY_MS, sleepUntil, systemClock } from '../../../src/index.js';
import { advance, elapsed, flush, T0 } from '../../helpers/fake-time.js';

beforeEach(() => {
	vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
	vi.useRealTimers();
});

const DAY = 86_400_000;

/** Tracks whether a promise has settled, and how. */
function track(promise: Promise<unknown>): { state: 'pending' | 'resolved' | 'rejected'; reason?: unknown } {
	const tracked: { state: 'pending' | 'resolved' | 'rejected'; reason?: unknown } = { state: 'pending' };
	promise.then(
		() => {
			tracked.state = 'resolved';
		},
		(reason: unknown) => {
			tracked.state = 'rejected';
			tracked.reason = reason;
		},
	);
	return tracked;
}

describe('systemClock', () => {
	test('now() is Date.now()', async () => {
		expect(systemClock.now()).toBe(T0);
		await advance(1_234);
		expect(systemClock.now()).toBe(T0 + 1_234);
	});

	test('sleep(ms) resolves after ms, not before', async () => {
		const sleep = track(systemClock.sleep(1_000));
		await advance(999);
		expect(sleep.state).toBe('pending');
		await advance(1);
		expect(sleep.state).toBe('resolved');
	});

	test('sleep() rejects with the abort reason as soon as the signal aborts, and leaves no timer', async () => {
		const controller = new AbortController();
		const sleep = track(systemClock.sleep(60_000, controller.signal));
		await advance(1_000);
		const reason = new Error('stop');
		controller.abort(reason);
		await flush();
		expect(sleep).toEqual({ state: 'rejected', reason });
		expect(vi.getTimerCount()).toBe(0);
		expect(elapsed()).toBe(1_000);
	});

	test('sleep() with an already aborted signal rejects at once without a timer', async () => {
		const reason = new Error('already');
		const sleep = track(systemClock.sleep(1_000, AbortSignal.abort(reason)));
		expect(vi.getTimerCount()).toBe(0);
		await Promise.resolve();
		expect(sleep).toEqual({ state: 'rejected', reason });
	});

	test('sleep() without a reason rejects with an AbortError', async () => {
		const controller = new AbortController();
		const sleep = track(systemClock.sleep(1_000, controller.signal));
		controller.abort();
		await flush();
		expect(sleep.state).toBe('rejected');
		expect((sleep.reason as DOMException).name).toBe('AbortError');
	});

	test('N1: a sleep longer than the 32-bit timer limit is split into chunks and lasts its full length', async () => {
		expect(MAX_TIMER_DELAY_MS).toBe(2 ** 31 - 1);
		const sleep = track(systemClock.sleep(30 * DAY));
		await advance(MAX_TIMER_DELAY_MS + 1);
		expect(sleep.state).toBe('pending');
		await advance(30 * DAY - MAX_TIMER_DELAY_MS - 2);
		expect(sleep.state).toBe('pending');
		await advance(1);
		expect(sleep.state).toBe('resolved');
	});

	test('N1: aborting during a later chunk rejects and leaves no timer', async () => {
		const controller = new AbortController();
		const sleep = track(systemClock.sleep(60 * DAY, controller.signal));
		await advance(40 * DAY);
		controller.abort(new Error('stop'));
		await flush();
		expect(sleep.state).toBe('rejected');
		expect(vi.getTimerCount()).toBe(0);
	});

	test('C18/A8: sleep(0) yields to the event loop once, without a timer (setTimeout would add a 1 ms minimum)', async () => {
		const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
		try {
			const sleep = track(systemClock.sleep(0));
			await Promise.resolve();
			await Promise.resolve();
			expect(sleep.state).toBe('pending');
			await flush();
			expect(sleep.state).toBe('resolved');
			expect(setTimeoutSpy).not.toHaveBeenCalled();
			expect(elapsed()).toBe(0);
		} finally {
			setTimeoutSpy.mockRestore();
		}
	});

	test('A8: a negative delay is a zero-length sleep', async () => {
		const sleep = track(systemClock.sleep(-500));
		await flush();
		expect(sleep.state).toBe('resolved');
		expect(elapsed()).toBe(0);
	});

	test('sleep(0) can be aborted before it yields', async () => {
		const controller = new AbortController();
		const sleep = track(systemClock.sleep(0, controller.signal));
		controller.abort(new Error('stop'));
		await flush();
		expect(sleep.state).toBe('rejected');
		expect(vi.getTimerCount()).toBe(0);
	});
});

describe('sleepUntil()', () => {
	test('A8: resolves when the clock reaches the target', async () => {
		const sleep = track(sleepUntil(systemClock, T0 + 5_000));
		await advance(4_999);
		expect(sleep.state).toBe('pending');
		await advance(1);
		expect(sleep.state).toBe('resolved');
	});

	test('A8: a target in the past still yields once, without waiting', async () => {
		const sleep = track(sleepUntil(systemClock, T0 - 10_000));
		await Promise.resolve();
		expect(sleep.state).toBe('pending');
		await flush();
		expect(sleep.state).toBe('resolved');
		expect(elapsed()).toBe(0);
	});

	test('T8: with a clock whose sleep() wakes 1 ms early, re-arms and never resolves before the target', async () => {
		const wakes: number[] = [];
		const early: Clock = {
			now: () => Date.now(),
			sleep: async (ms, signal) => {
				await systemClock.sleep(ms > 1 ? ms - 1 : ms, signal);
				wakes.push(elapsed());
			},
		};
		const sleep = track(sleepUntil(early, T0 + 5_000));
		await advance(4_999);
		expect(sleep.state).toBe('pending');
		await advance(1);
		expect(sleep.state).toBe('resolved');
		expect(wakes).toEqual([4_999, 5_000]);
	});

	test('T8: a fractional target is waited for up to the next whole millisecond, never less', async () => {
		const sleep = track(sleepUntil(systemClock, T0 + 1_000.5));
		await advance(1_000);
		expect(sleep.state).toBe('pending');
		await advance(1);
		expect(sleep.state).toBe('resolved');
	});

	test('rejects with the abort reason when the signal aborts', async () => {
		const controller = new AbortController();
		const reason = new Error('cancelled');
		const sleep = track(sleepUntil(systemClock, T0 + 60_000, controller.signal));
		await advance(1_000);
		controller.abort(reason);
		await flush();
		expect(sleep).toEqual({ state: 'rejected', reason });
	});
});

describe('systemClock#sleep on one long-lived signal', () => {
	test('leaves at most one abort listener on the signal however many sleeps used it', async () => {
		const controller = new AbortController();
		for (let i = 0; i < 50; i++) {
			const sleep = systemClock.sleep(10, controller.signal);
			await advance(10);
			await sleep;
		}
		expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
	});

	test('an abort rejects every sleep pending on the signal, and none that already settled', async () => {
		const controller = new AbortController();
		const settled = systemClock.sleep(5, controller.signal);
		await advance(5);
		await expect(settled).resolves.toBeUndefined();
		const first = systemClock.sleep(1_000, controller.signal);
		const second = systemClock.sleep(2_000, controller.signal);
		const reason = new Error('stop');
		controller.abort(reason);
		await expect(first).rejects.toBe(reason);
		await expect(second).rejects.toBe(reason);
		// The timers were cleared: advancing past them runs nothing.
		expect(vi.getTimerCount()).toBe(0);
	});
});
