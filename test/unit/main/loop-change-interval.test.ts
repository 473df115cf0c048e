import { describe, expect, test, vi } from 'vitest';
import { ErrorCode, InvalidOptionError, type Loop, loop, type ScheduleOptions } from '../../../src/index.js';
import { advance, delay, exactClock, flush, T0 } from '../../helpers/fake-time.js';
import { connectionReset, testLoop, useLoopTestTime } from '../../helpers/loops.js';
import { recordCalls } from '../../helpers/record-calls.js';

useLoopTestTime();

const DAY = 86_400_000;

/** Calls `changeInterval` with options the type system would refuse and returns the InvalidOptionError. */
function refused(target: Loop<[]>, options: unknown): InvalidOptionError {
	try {
		target.changeInterval(options as ScheduleOptions);
	} catch (error) {
		expect(error).toBeInstanceOf(InvalidOptionError);
		expect((error as InvalidOptionError).code).toBe(ErrorCode.InvalidOption);
		return error as InvalidOptionError;
	}
	throw new Error('expected changeInterval() to throw');
}

describe('Loop#changeInterval validation', () => {
	test.each([
		[{ seconds: -1 }, 'seconds'],
		[{ minutes: Number.NaN }, 'minutes'],
		[{ hours: '1' }, 'hours'],
		[{ time: '12:00', seconds: 5 }, 'time'],
		[{ cron: '* * * * *', minutes: 1 }, 'cron'],
		[{ time: [] }, 'time'],
		[{ time: ['12:00', 'noon'] }, 'time[1]'],
		[{ cron: 'every day' }, 'cron'],
		[null, 'options'],
		[5, 'options'],
		[[], 'options'],
	])('I1: %o is refused as loop() refuses it, naming %s', (options, option) => {
		expect(
			refused(
				loop({ seconds: 5 }, async () => {}),
				options,
			).option,
		).toBe(option);
	});

	test('I1: an unknown key is refused, as loop() refuses it (a typo must not mean an interval of 0)', () => {
		const created = loop({ seconds: 5 }, async () => {});
		expect(refused(created, { minute: 5 }).option).toBe('minute');
		expect(created.seconds).toBe(5);
	});

	test('I1: a refused call leaves the configuration untouched', () => {
		const created = loop({ seconds: 5, minutes: 1 }, async () => {});
		refused(created, { seconds: 1, time: '12:00' });
		refused(created, { minutes: -1 });
		expect([created.seconds, created.minutes, created.hours, created.time]).toEqual([5, 1, 0, null]);
	});

	test('I1: a refused call leaves the running schedule untouched', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 1 }, calls.body);
		void created.start();
		await advance(500);
		refused(created, { seconds: -1 });
		await advance(1_500);
		expect(calls.times).toEqual([0, 1_000, 2_000]);
	});
});

describe('Loop#changeInterval configuration', () => {
	test('I2: a relative call stores the components and clears the times', () => {
		const created = loop({ time: '12:00' }, async () => {});
		expect(created.changeInterval({ seconds: 30, hours: 2 })).toBe(created);
		expect([created.seconds, created.minutes, created.hours]).toEqual([30, 0, 2]);
		expect(created.time).toBeNull();
	});

	test('I2: a time call stores the normalised times and clears the components', () => {
		const created = loop({ seconds: 30 }, async () => {});
		created.changeInterval({ time: ['18:00', '06:00'] });
		expect(created.time?.map((slot) => slot.hour)).toEqual([6, 18]);
		expect([created.seconds, created.minutes, created.hours]).toEqual([null, null, null]);
	});

	test('I2 (extension): a cron call stores the pattern and clears the rest', () => {
		const created = loop({ time: '12:00' }, async () => {});
		created.changeInterval({ cron: '*/5 * * * *' });
		expect(created.cron).toBe('*/5 * * * *');
		expect(created.time).toBeNull();
		expect(created.seconds).toBeNull();
	});
});

describe('Loop#changeInterval while running', () => {
	test('I3: a new interval is anchored at the previous target, not at now', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 10 }, calls.body);
		void created.start();
		await advance(3_000);
		created.changeInterval({ seconds: 5 });
		expect(created.nextIteration?.getTime()).toBe(T0 + 5_000);
		await advance(7_000);
		expect(calls.times).toEqual([0, 5_000, 10_000]);
	});

	test('I3: a target that is already past wakes the sleep at once (one late run, then the new grid)', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 10, clock: exactClock }, calls.body);
		void created.start();
		await advance(7_000);
		created.changeInterval({ seconds: 2 });
		await advance(3_000);
		expect(calls.times).toEqual([0, 7_000, 8_000, 10_000]);
	});

	test("I3: with 'catchUp' a past target makes the loop catch up on the new grid", async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 10, missedIterations: 'catchUp', clock: exactClock }, calls.body);
		void created.start();
		await advance(7_000);
		created.changeInterval({ seconds: 2 });
		await advance(3_000);
		expect(calls.times).toEqual([0, 7_000, 7_000, 7_000, 8_000, 10_000]);
	});

	test('I3: a time loop recomputes its next slot from the clock and re-arms its sleep', async () => {
		const calls = recordCalls();
		const created = testLoop({ time: ['00:00:10', '00:01:00'] }, calls.body);
		void created.start();
		await advance(15_000);
		created.changeInterval({ time: ['00:00:05', '00:00:20'] });
		expect(created.nextIteration?.getTime()).toBe(T0 + 20_000);
		await advance(10_000);
		expect(calls.times).toEqual([10_000, 20_000]);
	});

	test('I4: before start() the values are only stored, and the run uses them', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 10 }, calls.body);
		created.changeInterval({ seconds: 2 });
		void created.start();
		await advance(4_000);
		expect(calls.times).toEqual([0, 2_000, 4_000]);
	});

	test('I4: right after start(), before the first step, the values are only stored, and the run uses them', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 10 }, calls.body);
		void created.start();
		created.changeInterval({ time: '00:00:30' });
		await advance(30_000);
		expect(calls.times).toEqual([30_000]);
	});

	test('I4: a time loop waiting for its very first slot keeps waiting for it; new slots apply from the next computation', async () => {
		const calls = recordCalls();
		const created = testLoop({ time: '06:00' }, calls.body);
		void created.start();
		await advance(3_600_000);
		created.changeInterval({ time: '03:00' });
		expect(created.nextIteration?.toISOString()).toBe('2026-01-05T06:00:00.000Z');
		await advance(2 * DAY);
		expect(calls.times).toEqual([6 * 3_600_000, DAY + 3 * 3_600_000]);
	});

	test('I3/N1: a sleep re-armed past the 32-bit timer limit is still split into chunks', async () => {
		const calls = recordCalls();
		const created = testLoop({ hours: 24 }, calls.body);
		void created.start();
		await advance(3_600_000);
		created.changeInterval({ hours: 24 * 30 });
		await advance(DAY);
		expect(calls.times).toEqual([0]);
		await advance(30 * DAY - DAY - 3_600_000);
		expect(calls.times).toEqual([0, 30 * DAY]);
	});

	test('I5: seconds=2 changed to 0.5 at 0.3 s, during the first sleep: bodies at 0.0, 0.5, 1.0, 1.5', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 2 }, calls.body);
		void created.start();
		await advance(300);
		created.changeInterval({ seconds: 0.5 });
		await advance(1_200);
		expect(calls.times).toEqual([0, 500, 1_000, 1_500]);
	});

	test('I5: seconds=0.5 changed to 1.5 at 0.3 s: bodies at 0.0, 1.5, 3.0', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 0.5 }, calls.body);
		void created.start();
		await advance(300);
		created.changeInterval({ seconds: 1.5 });
		await advance(2_700);
		expect(calls.times).toEqual([0, 1_500, 3_000]);
	});

	test('I5/I10: changed inside the first body from 0.2 to 1: bodies at 0.0, 1.0, 2.0', async () => {
		const calls = recordCalls((index) => {
			if (index === 0) created.changeInterval({ seconds: 1 });
		});
		const created: Loop<[]> = testLoop({ seconds: 0.2 }, calls.body);
		void created.start();
		await advance(2_000);
		expect(calls.times).toEqual([0, 1_000, 2_000]);
	});

	test('I5/I4: changed in beforeLoop from 0.2 to 0.6: bodies at 0.0, 0.6', async () => {
		const calls = recordCalls();
		const created: Loop<[]> = testLoop(
			{
				seconds: 0.2,
				beforeLoop: () => {
					created.changeInterval({ seconds: 0.6 });
				},
			},
			calls.body,
		);
		void created.start();
		await advance(1_000);
		expect(calls.times).toEqual([0, 600]);
	});

	test('I6: the backoff sleep is not shortened by changeInterval', async () => {
		const calls = recordCalls((index) => {
			if (index === 0) throw connectionReset();
		});
		const created = testLoop({ seconds: 10 }, calls.body);
		void created.start();
		await advance(500);
		created.changeInterval({ seconds: 0.1 });
		await advance(500);
		expect(calls.times).toEqual([0, 1_000]);
		await advance(100);
		expect(calls.times).toEqual([0, 1_000, 1_100]);
	});

	test('I7: interval to times while sleeping: the sleep is re-armed to the first slot from now, then the loop keeps to its slots', async () => {
		const calls = recordCalls();
		const created = testLoop({ hours: 1, clock: exactClock }, calls.body);
		void created.start();
		await advance(10_000);
		created.changeInterval({ time: '00:00:30' });
		await advance(20_000);
		expect(calls.times).toEqual([0, 30_000]);
		expect(created.nextIteration?.getTime()).toBe(T0 + DAY + 30_000);
	});

	test("I8: times to interval while sleeping, with 'catchUp': a burst for the targets since the last slot (5 s; at 15 s to 3 s: 15, 15, 15, 17)", async () => {
		const calls = recordCalls();
		const created = testLoop({ time: '00:00:05', missedIterations: 'catchUp', clock: exactClock }, calls.body);
		void created.start();
		await advance(15_000);
		created.changeInterval({ seconds: 3 });
		await advance(2_000);
		expect(calls.times).toEqual([5_000, 15_000, 15_000, 15_000, 17_000]);
	});

	test('I8 (deviation): times to interval while sleeping, by default: one late run, then the grid from the last slot', async () => {
		const calls = recordCalls();
		const created = testLoop({ time: '00:00:05', clock: exactClock }, calls.body);
		void created.start();
		await advance(15_000);
		created.changeInterval({ seconds: 3 });
		await advance(5_000);
		expect(calls.times).toEqual([5_000, 15_000, 17_000, 20_000]);
	});

	test("I9: the previous run's last target does not leak into a new run whose beforeLoop changes the interval", async () => {
		const calls = recordCalls();
		let changeInBeforeLoop = false;
		const created: Loop<[]> = testLoop(
			{
				seconds: 10,
				beforeLoop: () => {
					if (changeInBeforeLoop) created.changeInterval({ seconds: 5 });
				},
			},
			calls.body,
		);
		const first = created.start();
		await advance(15_000);
		created.cancel();
		await first;
		await advance(85_000);
		changeInBeforeLoop = true;
		void created.start();
		await advance(5_000);
		expect(calls.times).toEqual([0, 10_000, 100_000, 105_000]);
	});

	test('I10: inside the body only the next target changes, and nextIteration shows it at once', async () => {
		const seen: (number | undefined)[] = [];
		const calls = recordCalls(async (index) => {
			if (index === 0) {
				await delay(100);
				seen.push(created.nextIteration?.getTime());
				created.changeInterval({ seconds: 3 });
				seen.push(created.nextIteration?.getTime());
			}
		});
		const created: Loop<[]> = testLoop({ seconds: 1 }, calls.body);
		void created.start();
		await advance(3_000);
		expect(seen).toEqual([T0 + 1_000, T0 + 3_000]);
		expect(calls.times).toEqual([0, 3_000]);
	});

	test('I3: changeInterval when the run has ended only stores the values', async () => {
		const created = testLoop({ seconds: 1, count: 1 }, async () => {});
		await Promise.all([created.start(), advance(1_000)]);
		created.changeInterval({ seconds: 7 });
		expect(created.seconds).toBe(7);
		expect(created.nextIteration).toBeNull();
		await flush();
		expect(vi.getTimerCount()).toBe(0);
	});
});
