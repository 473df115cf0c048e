import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { MAX_TIMER_DELAY_MS } from '../../../src/index.js';
import { TimerCore, TimerEntry } from '../../../src/main/timer-core.js';
import { advance, elapsed, flush, T0 } from '../../helpers/fake-time.js';

beforeEach(() => {
	vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
	vi.useRealTimers();
});

const DAY = 86_400_000;

/** An entry that records, in `fired`, its name and the fake time it fired at. */
function recorder(fired: string[]): (name: string) => TimerEntry {
	return (name) => new TimerEntry(() => fired.push(`${name}@${elapsed()}`));
}

describe('TimerCore#schedule', () => {
	test('fires entries in order of due time, then in the order they were scheduled', async () => {
		const core = new TimerCore();
		const fired: string[] = [];
		const entry = recorder(fired);
		core.schedule(entry('c'), T0 + 30);
		core.schedule(entry('a1'), T0 + 10);
		core.schedule(entry('b'), T0 + 20);
		core.schedule(entry('a2'), T0 + 10);
		await advance(30);
		expect(fired).toEqual(['a1@10', 'a2@10', 'b@20', 'c@30']);
		expect(core.size).toBe(0);
	});

	test('keeps heap order over many random due times, with one timer armed at a time', async () => {
		const core = new TimerCore();
		const dues: number[] = [];
		let seed = 7;
		const random = () => {
			seed = (seed * 48_271) % 2_147_483_647;
			return seed / 2_147_483_647;
		};
		for (let i = 0; i < 2_000; i++) {
			const due = T0 + Math.floor(random() * 10_000);
			core.schedule(new TimerEntry(() => dues.push(due)), due);
		}
		expect(vi.getTimerCount()).toBe(1);
		await advance(10_000);
		expect(dues).toHaveLength(2_000);
		expect(dues).toEqual([...dues].sort((a, b) => a - b));
		expect(vi.getTimerCount()).toBe(0);
	});

	test('never fires before the due time: a fractional due waits for the next millisecond', async () => {
		const core = new TimerCore();
		const fired: string[] = [];
		core.schedule(recorder(fired)('x'), T0 + 10.5);
		await advance(10);
		expect(fired).toEqual([]);
		await advance(1);
		expect(fired).toEqual(['x@11']);
	});

	test('the re-arm guard: a timer that wakes before the due time (the wall clock went back) re-arms for the rest', async () => {
		const core = new TimerCore();
		const firedAt: number[] = [];
		core.schedule(new TimerEntry(() => firedAt.push(Date.now())), T0 + 1_000);
		vi.setSystemTime(T0 - 500); // the timer still fires 1,000 ms from now, when Date.now() reads T0 + 500
		await advance(1_000);
		expect(firedAt).toEqual([]);
		await advance(500);
		expect(firedAt).toEqual([T0 + 1_000]);
	});

	test('rescheduling a scheduled entry moves it, earlier or later (changeInterval re-arming a sleep)', async () => {
		const core = new TimerCore();
		const fired: string[] = [];
		const entry = recorder(fired);
		const moved = entry('moved');
		core.schedule(moved, T0 + 5_000);
		core.schedule(entry('other'), T0 + 2_000);
		core.schedule(moved, T0 + 1_000);
		await advance(1_500);
		expect(fired).toEqual(['moved@1000']);
		core.schedule(moved, T0 + 3_000);
		core.schedule(moved, T0 + 4_000);
		await advance(5_000);
		expect(fired).toEqual(['moved@1000', 'other@2000', 'moved@4000']);
	});

	test('a due time in the past fires on the next turn of the event loop, without a 1 ms timer (C18)', async () => {
		const core = new TimerCore();
		const fired: string[] = [];
		const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
		try {
			core.schedule(recorder(fired)('late'), T0 - 10);
			expect(fired).toEqual([]);
			await flush();
			expect(fired).toEqual(['late@0']);
			expect(setTimeoutSpy).not.toHaveBeenCalled();
		} finally {
			setTimeoutSpy.mockRestore();
		}
	});

	test('an entry rescheduled into the past while firing waits for the next turn: others due are not starved', async () => {
		const core = new TimerCore();
		const fired: string[] = [];
		let bursts = 0;
		const burst = new TimerEntry(() => {
			fired.push(`burst@${elapsed()}`);
			if (++bursts < 3) core.schedule(burst, T0); // a catch-up: its next target has already passed
		});
		core.schedule(burst, T0 + 10);
		core.schedule(recorder(fired)('other'), T0 + 10);
		await advance(10);
		expect(fired).toEqual(['burst@10', 'other@10']);
		// The next turns: fake timers run an immediate created during a tick 1 ms later.
		await advance(2);
		expect(fired).toEqual(['burst@10', 'other@10', 'burst@11', 'burst@12']);
	});

	test('a wake that has fired for 5 ms leaves the rest of the due entries to the next turn of the event loop', async () => {
		const core = new TimerCore();
		const turns: number[] = [];
		let turn = 0;
		setImmediate(function countTurns() {
			turn += 1;
			if (turn < 50) setImmediate(countTurns);
		});
		for (let i = 0; i < 200; i++) {
			core.schedule(
				new TimerEntry(() => {
					turns.push(turn);
					// A slow body: the wall clock moves on while the core is firing.
					if (i === 0) vi.setSystemTime(Date.now() + 10);
				}),
				T0 + 10,
			);
		}
		await advance(20);
		expect(turns).toHaveLength(200);
		// The first 63 ran in the timer's own callback; the others after at least one other callback got in.
		expect(new Set(turns.slice(0, 63)).size).toBe(1);
		expect(turns[63]).toBeGreaterThan(turns[0] as number);
	});

	test('N1: a due time past the 32-bit timer limit is reached in chunks, at its exact time', async () => {
		const core = new TimerCore();
		const fired: string[] = [];
		core.schedule(recorder(fired)('far'), T0 + 30 * DAY);
		await advance(MAX_TIMER_DELAY_MS + 1);
		expect(fired).toEqual([]);
		await advance(30 * DAY - MAX_TIMER_DELAY_MS - 2);
		expect(fired).toEqual([]);
		await advance(1);
		expect(fired).toEqual([`far@${30 * DAY}`]);
	});

	test('an entry whose fire throws does not stop the others', async () => {
		const core = new TimerCore();
		const fired: string[] = [];
		const errors: unknown[] = [];
		const onError = (error: unknown) => errors.push(error);
		process.on('uncaughtException', onError);
		try {
			core.schedule(
				new TimerEntry(() => {
					throw new Error('boom');
				}),
				T0 + 10,
			);
			core.schedule(recorder(fired)('next'), T0 + 10);
			await advance(10).catch((error: unknown) => errors.push(error));
			expect(fired).toEqual(['next@10']);
		} finally {
			process.off('uncaughtException', onError);
		}
		expect(errors).toHaveLength(1);
	});
});

describe('TimerCore#cancel', () => {
	test('removes the entry at once and leaves no timer once nothing is scheduled', async () => {
		const core = new TimerCore();
		const fired: string[] = [];
		const entry = recorder(fired);
		const first = entry('first');
		const second = entry('second');
		core.schedule(first, T0 + 1_000);
		core.schedule(second, T0 + 2_000);
		core.cancel(first);
		expect(core.has(first)).toBe(false);
		await advance(1_500);
		expect(fired).toEqual([]);
		core.cancel(second);
		core.cancel(second); // a second cancel is a no-op
		expect(vi.getTimerCount()).toBe(0);
		await advance(5_000);
		expect(fired).toEqual([]);
	});

	test('cancelling an entry from inside another entry that fires at the same time prevents it', async () => {
		const core = new TimerCore();
		const fired: string[] = [];
		const victim = recorder(fired)('victim');
		core.schedule(new TimerEntry(() => core.cancel(victim)), T0 + 10);
		core.schedule(victim, T0 + 10);
		await advance(10);
		expect(fired).toEqual([]);
	});
});

describe('TimerCore with 100,000 entries', () => {
	test('holds one timer, fires every entry once in order, and cancels half of them without firing any', async () => {
		const core = new TimerCore();
		const count = 100_000;
		const entries: TimerEntry[] = [];
		const firedDues: number[] = [];
		for (let i = 0; i < count; i++) {
			const due = T0 + 1 + ((i * 7_919) % 10_000);
			const entry = new TimerEntry(() => firedDues.push(due));
			entries.push(entry);
			core.schedule(entry, due);
		}
		expect(core.size).toBe(count);
		expect(vi.getTimerCount()).toBe(1);
		for (let i = 0; i < count; i += 2) core.cancel(entries[i] as TimerEntry);
		expect(core.size).toBe(count / 2);
		await advance(10_000);
		expect(firedDues).toHaveLength(count / 2);
		expect(firedDues).toEqual([...firedDues].sort((a, b) => a - b));
		expect(core.size).toBe(0);
		expect(vi.getTimerCount()).toBe(0);
	});
});

describe('TimerCore and timer implementations', () => {
	test('a timer armed under real timers is re-armed under fake timers installed later', async () => {
		vi.useRealTimers();
		const core = new TimerCore();
		const fired: string[] = [];
		const entry = recorder(fired);
		const later = entry('later');
		core.schedule(later, T0 + 2_000);
		vi.useFakeTimers({ now: T0 });
		core.schedule(entry('sooner'), T0 + 1_000);
		await advance(2_000);
		expect(fired).toEqual(['sooner@1000', 'later@2000']);
		expect(vi.getTimerCount()).toBe(0);
	});
});
