import { describe, expect, test, vi } from 'vitest';
import { type Clock, type Loop, MAX_TIMER_DELAY_MS, systemClock } from '../../../src/index.js';
import { advance, elapsed, exactClock, flush, T0 } from '../../helpers/fake-time.js';
import { testLoop, useLoopTestTime } from '../../helpers/loops.js';
import { recordCalls } from '../../helpers/record-calls.js';
import { recordingLogger } from '../../helpers/recording-logger.js';

useLoopTestTime();

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Body call times as ISO strings (easier to read than offsets when zones are involved). */
function isoTimes(times: readonly number[], origin: number): string[] {
	return times.map((time) => new Date(origin + time).toISOString());
}

/** Starts `target`, lets its first step run, and returns its next iteration as an ISO string. */
async function nextIterationAfterStart(target: Loop<[]>): Promise<string | undefined> {
	void target.start();
	await flush();
	return target.nextIteration?.toISOString();
}

describe('the slot list', () => {
	test('T1: slots given out of order run in time order', async () => {
		const calls = recordCalls();
		void testLoop({ time: ['18:00', '06:00'] }, calls.body).start();
		await advance(DAY);
		expect(calls.times).toEqual([6 * HOUR, 18 * HOUR]);
	});

	test('T1: duplicate slots run once', async () => {
		const calls = recordCalls();
		void testLoop({ time: ['12:00', '12:00', { hour: 21, timeZone: '+09:00' }] }, calls.body).start();
		await advance(2 * DAY);
		expect(calls.times).toEqual([12 * HOUR, 12 * HOUR + DAY]);
	});
});

describe('finding the next slot', () => {
	test('T2: after the last slot of the day the loop waits for the first slot tomorrow', async () => {
		vi.setSystemTime(T0 + 20 * HOUR);
		const calls = recordCalls(undefined, T0);
		void testLoop({ time: ['06:00', '18:00'] }, calls.body).start();
		await advance(DAY);
		expect(calls.times).toEqual([DAY + 6 * HOUR, DAY + 18 * HOUR]);
	});

	test('T3: started exactly at a slot, the loop runs it at once', async () => {
		vi.setSystemTime(T0 + 12 * HOUR);
		const calls = recordCalls();
		void testLoop({ time: '12:00' }, calls.body).start();
		await flush();
		expect(calls.times).toEqual([0]);
	});

	test('T3: started 1 ms after a slot, the loop runs it tomorrow', async () => {
		vi.setSystemTime(T0 + 12 * HOUR + 1);
		const created = testLoop({ time: '12:00' }, async () => {});
		expect(await nextIterationAfterStart(created)).toBe('2026-01-06T12:00:00.000Z');
	});

	test.each([
		['2026-01-05T14:50:59Z', '2026-01-05T15:00:00.000Z'], // 23:50:59 JST -> 00:00 JST
		['2026-01-05T15:00:01Z', '2026-01-05T18:00:00.000Z'], // 00:00:01 JST -> 03:00 JST
		['2026-01-05T20:59:00Z', '2026-01-05T21:00:00.000Z'], // a minute before 06:00 JST -> that slot
		['2026-01-05T11:59:00Z', '2026-01-05T12:00:00.000Z'], // a minute before 21:00 JST -> that slot
	])('T3: with JST slots every 3 h, at %s the next iteration is %s', async (now, expected) => {
		vi.setSystemTime(Date.parse(now));
		const slots = [0, 3, 6, 9, 12, 15, 18, 21].map((hour) => ({ hour, timeZone: '+09:00' }));
		expect(await nextIterationAfterStart(testLoop({ time: slots }, async () => {}))).toBe(expected);
	});

	test('T4: a slot in the spring-forward gap runs shifted by the gap (02:30 New York on 2026-03-08 is 03:30 EDT)', async () => {
		vi.setSystemTime(Date.parse('2026-03-08T05:00:00Z'));
		const created = testLoop({ time: { hour: 2, minute: 30, timeZone: 'America/New_York' } }, async () => {});
		expect(await nextIterationAfterStart(created)).toBe('2026-03-08T07:30:00.000Z');
	});

	test('T4: a slot in the fall-back overlap runs at its second occurrence (01:30 New York on 2026-11-01 is EST)', async () => {
		vi.setSystemTime(Date.parse('2026-11-01T04:00:00Z'));
		const created = testLoop({ time: { hour: 1, minute: 30, timeZone: 'America/New_York' } }, async () => {});
		expect(await nextIterationAfterStart(created)).toBe('2026-11-01T06:30:00.000Z');
	});

	test('T5: on the fall-back day, at 01:15 EDT, a 01:30 slot runs once, at 01:30 EST', async () => {
		const origin = Date.parse('2026-11-01T05:15:00Z');
		vi.setSystemTime(origin);
		const calls = recordCalls(undefined, origin);
		void testLoop({ time: { hour: 1, minute: 30, timeZone: 'America/New_York' } }, calls.body).start();
		await advance(DAY + HOUR);
		expect(isoTimes(calls.times, origin)).toEqual(['2026-11-01T06:30:00.000Z']);
	});

	test('T5: on the spring-forward day the missing 02:30 slot runs at 03:30, then tomorrow at 02:30', async () => {
		const origin = Date.parse('2026-03-08T05:00:00Z');
		vi.setSystemTime(origin);
		const calls = recordCalls(undefined, origin);
		void testLoop({ time: { hour: 2, minute: 30, timeZone: 'America/New_York' } }, calls.body).start();
		await advance(2 * DAY);
		expect(isoTimes(calls.times, origin)).toEqual(['2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
	});

	test('T6 (deviation): nextIteration is a Date at the instant of the slot in its own zone', async () => {
		const created = testLoop({ time: { hour: 10, timeZone: 'Asia/Tokyo' } }, async () => {});
		void created.start();
		await flush();
		expect(created.nextIteration).toBeInstanceOf(Date);
		expect(created.nextIteration?.getTime()).toBe(Date.parse('2026-01-05T01:00:00Z'));
	});

	test('T6: nextIteration of an interval loop is the instant of the next target', async () => {
		const created = testLoop({ minutes: 10 }, async () => {});
		void created.start();
		await advance(HOUR / 2);
		expect(created.nextIteration?.getTime()).toBe(T0 + 40 * 60_000);
	});

	test('T7: slots that already passed today are not run at start but tomorrow (U1/U2)', async () => {
		vi.setSystemTime(T0 + 12 * HOUR + 5 * 60_000);
		const calls = recordCalls();
		const created = testLoop({ time: ['12:04', '12:03', '12:02'] }, calls.body);
		void created.start();
		await advance(1_000);
		expect(calls.times).toEqual([]);
		expect(created.nextIteration?.toISOString()).toBe('2026-01-06T12:02:00.000Z');
	});

	test('T8: with a timer that wakes early, every slot still runs at its time, once', async () => {
		const logger = recordingLogger();
		const calls = recordCalls();
		void testLoop({ time: ['00:00:10', '00:00:20', '00:00:30'], clock: earlyClock(), logger }, calls.body).start();
		await advance(40_000);
		expect(calls.times).toEqual([10_000, 20_000, 30_000]);
		expect(logger.warn).not.toHaveBeenCalled();
	});

	test('T8: an interval loop with a timer that wakes early never starts an iteration early', async () => {
		const calls = recordCalls();
		void testLoop({ seconds: 5, clock: earlyClock() }, calls.body).start();
		await advance(20_000);
		expect(calls.times).toEqual([0, 5_000, 10_000, 15_000, 20_000]);
	});

	test('T9 (deviation): the soonest slot across zones runs, not the first qualifying one in list order', async () => {
		const origin = T0 + 10 * HOUR;
		vi.setSystemTime(origin);
		const calls = recordCalls(undefined, origin);
		void testLoop({ time: [{ hour: 1, timeZone: '+09:00' }, '23:00'] }, calls.body).start();
		await advance(14 * HOUR);
		expect(isoTimes(calls.times, origin)).toEqual(['2026-01-05T16:00:00.000Z', '2026-01-05T23:00:00.000Z']);
	});

	test('T10: nothing is remembered between computations: after a wall-clock jump the next slot comes from the new time', async () => {
		const calls = recordCalls(undefined, T0);
		void testLoop({ time: ['06:00', '12:00', '18:00'] }, calls.body).start();
		await advance(7 * HOUR);
		// The wall clock jumps 12 h ahead (to 19:00); the pending timer still fires 5 h later, at 00:00 tomorrow.
		vi.setSystemTime(Date.now() + 12 * HOUR);
		await advance(12 * HOUR);
		expect(isoTimes(calls.times, T0)).toEqual([
			'2026-01-05T06:00:00.000Z',
			'2026-01-06T00:00:00.000Z',
			'2026-01-06T06:00:00.000Z',
		]);
	});

	test('T10: new slots take effect at the next computation', async () => {
		const calls = recordCalls(undefined, T0);
		const created = testLoop({ time: ['06:00', '18:00'] }, calls.body);
		void created.start();
		await advance(7 * HOUR);
		created.changeInterval({ time: ['09:00', '10:00'] });
		await advance(4 * HOUR);
		expect(isoTimes(calls.times, T0)).toEqual([
			'2026-01-05T06:00:00.000Z',
			'2026-01-05T09:00:00.000Z',
			'2026-01-05T10:00:00.000Z',
		]);
	});
});

describe('a cron loop', () => {
	test('T7: runs at each fire time of its pattern, not at start', async () => {
		const calls = recordCalls();
		void testLoop({ cron: '*/10 * * * * *' }, calls.body).start();
		await advance(35_000);
		expect(calls.times).toEqual([10_000, 20_000, 30_000]);
	});

	test('A10: does not catch up on missed fire times', async () => {
		const calls = recordCalls(async (index) => {
			if (index === 0) await new Promise((resolve) => setTimeout(resolve, 25_000));
		});
		void testLoop({ cron: '*/10 * * * * *', clock: exactClock }, calls.body).start();
		await advance(60_000);
		expect(calls.times).toEqual([10_000, 35_000, 40_000, 50_000, 60_000]);
	});
});

describe('long sleeps (N1)', () => {
	test('C19: a sleep past the 32-bit timer limit is split: a 30-day interval runs its second iteration 30 days later', async () => {
		expect(30 * DAY).toBeGreaterThan(MAX_TIMER_DELAY_MS);
		const calls = recordCalls();
		void testLoop({ hours: 24 * 30 }, calls.body).start();
		await advance(1_000);
		expect(calls.times).toEqual([0]);
		await advance(30 * DAY - 1_001);
		expect(calls.times).toEqual([0]);
		await advance(1);
		expect(calls.times).toEqual([0, 30 * DAY]);
	});

	test('C19: a cron fire time a year away is waited for, not run at once', async () => {
		const calls = recordCalls(undefined, T0);
		const created = testLoop({ cron: '0 0 1 1 *' }, calls.body);
		void created.start();
		await flush();
		const newYear = Date.parse('2027-01-01T00:00:00Z');
		expect(created.nextIteration?.getTime()).toBe(newYear);
		await advance(newYear - T0 - 1);
		expect(calls.times).toEqual([]);
		await advance(1);
		expect(isoTimes(calls.times, T0)).toEqual(['2027-01-01T00:00:00.000Z']);
	});
});

describe('jitterMs', () => {
	test('adds random() * jitterMs to every scheduled target of an interval loop, and nextIteration shows it', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 1, jitterMs: 100, random: () => 0.5 }, calls.body);
		void created.start();
		await advance(500);
		expect(created.nextIteration?.getTime()).toBe(T0 + 1_050);
		await advance(2_000);
		expect(calls.times).toEqual([0, 1_050, 2_050]);
	});

	test('adds random() * jitterMs to the slots of a time loop, without moving the slots', async () => {
		const calls = recordCalls();
		const created = testLoop({ time: ['06:00', '18:00'], jitterMs: 100, random: () => 0.5 }, calls.body);
		void created.start();
		await flush();
		expect(created.nextIteration?.getTime()).toBe(T0 + 6 * HOUR + 50);
		await advance(DAY);
		expect(calls.times).toEqual([6 * HOUR + 50, 18 * HOUR + 50]);
	});

	test('never starts an iteration before its target, even with a fractional jitter', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 1, jitterMs: 100, random: () => 0.999 }, calls.body);
		void created.start();
		await advance(1_050);
		// The target is 1099.9 ms; a Date (and so nextIteration) has whole milliseconds.
		expect(created.nextIteration?.getTime()).toBe(T0 + 1_099);
		await advance(49);
		expect(calls.times).toEqual([0]);
		await advance(1);
		expect(calls.times).toEqual([0, 1_100]);
	});

	test('a jitter of 0 (the default) keeps targets exact', async () => {
		const calls = recordCalls();
		void testLoop({ seconds: 1, random: () => 0.9 }, calls.body).start();
		await advance(3_000);
		expect(calls.times).toEqual([0, 1_000, 2_000, 3_000]);
		expect(elapsed()).toBe(3_000);
	});
});

/** The system clock, but every sleep longer than 1 ms wakes 1 ms early (as Node timers sometimes do). */
function earlyClock(): Clock {
	return {
		now: () => Date.now(),
		sleep: (ms, signal) => systemClock.sleep(ms > 1 ? ms - 1 : ms, signal),
	};
}
