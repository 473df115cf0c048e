import { describe, expect, test, vi } from 'vitest';
import {
	DEFAULT_EXCEPTION_TYPES,
	ErrorCode,
	InvalidOptionError,
	Loop,
	type LoopOptions,
	LoopState,
	loop,
} from '../../../src/index.js';
import { advance, elapsed, exactClock, flush, T0 } from '../../helpers/fake-time.js';
import { testLoop, useLoopTestTime } from '../../helpers/loops.js';
import { recordCalls } from '../../helpers/record-calls.js';

useLoopTestTime();

const noop = async () => {};

/** Calls `fn`, expects an InvalidOptionError, and returns it. */
function invalidOption(fn: () => unknown): InvalidOptionError {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(InvalidOptionError);
		expect((error as InvalidOptionError).code).toBe(ErrorCode.InvalidOption);
		return error as InvalidOptionError;
	}
	throw new Error('expected an InvalidOptionError, nothing was thrown');
}

/** Builds a loop from options the type system would refuse (what a JavaScript caller can pass). */
function untypedLoop(options: unknown, body: unknown = noop): Loop<[]> {
	return loop(options as LoopOptions<Loop<[]>>, body as () => unknown);
}

describe('loop()', () => {
	test('C1: returns a Loop that has not started', () => {
		const body = vi.fn();
		const created = loop({ seconds: 5 }, body);
		expect(created).toBeInstanceOf(Loop);
		expect(created.isRunning()).toBe(false);
		expect(body).not.toHaveBeenCalled();
	});

	test('C1: takes its options as one object; anything else is refused naming `options`', () => {
		expect(invalidOption(() => untypedLoop(null)).option).toBe('options');
		expect(invalidOption(() => untypedLoop(5)).option).toBe('options');
		expect(invalidOption(() => untypedLoop([])).option).toBe('options');
	});

	test('C1: with no schedule option the interval is 0 (every component unset counts as 0)', () => {
		const created = loop({}, noop);
		expect([created.seconds, created.minutes, created.hours]).toEqual([0, 0, 0]);
		expect(created.time).toBeNull();
		expect(created.cron).toBeNull();
	});

	test('C1 (deviation): unknown option keys are refused naming the key', () => {
		expect(invalidOption(() => untypedLoop({ second: 5 })).option).toBe('second');
		expect(invalidOption(() => untypedLoop({ seconds: 5, onerror: noop })).option).toBe('onerror');
	});

	test('C2: a bad count is reported before a bad interval, and both before a bad body', () => {
		expect(invalidOption(() => untypedLoop({ count: 0, seconds: -1 }, 42)).option).toBe('count');
		expect(invalidOption(() => untypedLoop({ seconds: -1 }, 42)).option).toBe('seconds');
		expect(invalidOption(() => untypedLoop({ seconds: 1 }, 42)).option).toBe('body');
	});

	test.each([
		[1.5, '1.5 (number)'],
		[0, '0 (number)'],
		[-1, '-1 (number)'],
		['3', "'3' (string)"],
		[true, 'true (boolean)'],
		[Number.NaN, 'NaN (number)'],
		[Number.POSITIVE_INFINITY, 'Infinity (number)'],
	])('C3 (deviation): count %s is refused: it must be a positive integer', (count, described) => {
		const error = invalidOption(() => untypedLoop({ count }));
		expect(error.option).toBe('count');
		expect(error.message).toContain(described);
	});

	test('C3: count null or unset means forever', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 1, count: null }, calls.body);
		void created.start();
		await advance(9_000);
		expect(calls.times).toHaveLength(10);
		expect(created.isRunning()).toBe(true);
		expect(loop({}, noop).count).toBeNull();
	});

	test.each([
		[{ seconds: -1 }, 'seconds'],
		[{ minutes: -0.5 }, 'minutes'],
		[{ hours: -2 }, 'hours'],
		[{ seconds: -10, minutes: 1 }, 'seconds'],
		[{ seconds: Number.NaN }, 'seconds'],
		[{ minutes: Number.POSITIVE_INFINITY }, 'minutes'],
		[{ hours: '1' }, 'hours'],
	])('C4 (deviation): %o is refused naming %s: every component must be a finite number >= 0', (options, option) => {
		expect(invalidOption(() => untypedLoop(options)).option).toBe(option);
	});

	test('C4: the interval is seconds + 60 * minutes + 3600 * hours', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 1, minutes: 1, hours: 1 }, calls.body);
		void created.start();
		await advance(2 * 3_661_000);
		expect(calls.times).toEqual([0, 3_661_000, 7_322_000]);
	});

	test('C5: the getters keep the components as given, not a normalised value', () => {
		const created = loop({ seconds: 90 }, noop);
		expect([created.seconds, created.minutes, created.hours]).toEqual([90, 0, 0]);
		const fractional = loop({ minutes: 1.5, hours: 0.25 }, noop);
		expect([fractional.seconds, fractional.minutes, fractional.hours]).toEqual([0, 1.5, 0.25]);
	});

	test('C5: fractional components run at the total they add up to', async () => {
		const calls = recordCalls();
		void testLoop({ minutes: 1.5 }, calls.body).start();
		await advance(90_000);
		expect(calls.times).toEqual([0, 90_000]);
	});

	test('C6: time or cron next to a non-zero relative component is refused', () => {
		expect(invalidOption(() => untypedLoop({ time: '12:00', seconds: 5 })).option).toBe('time');
		expect(invalidOption(() => untypedLoop({ time: '12:00', hours: 1 })).option).toBe('time');
		expect(invalidOption(() => untypedLoop({ cron: '0 * * * *', minutes: 1 })).option).toBe('cron');
	});

	test('C6: zero components next to time or cron are accepted and the loop is explicit', () => {
		const timed = loop({ time: '12:00', seconds: 0, minutes: 0, hours: 0 }, noop);
		expect(timed.time).toHaveLength(1);
		expect(timed.seconds).toBeNull();
		const cron = loop({ cron: '0 * * * *', seconds: 0 }, noop);
		expect(cron.cron).toBe('0 * * * *');
		expect(cron.seconds).toBeNull();
	});

	test('C6 (extension): time and cron cannot be combined', () => {
		expect(invalidOption(() => untypedLoop({ time: '12:00', cron: '0 * * * *' })).option).toBe('cron');
	});

	test('C7: a single time becomes a one-element list; without a zone it is UTC', () => {
		expect(loop({ time: '12:00' }, noop).time).toEqual([{ hour: 12, minute: 0, second: 0, timeZone: 'UTC' }]);
		expect(loop({ time: { hour: 9, minute: 30 } }, noop).time).toEqual([
			{ hour: 9, minute: 30, second: 0, timeZone: 'UTC' },
		]);
	});

	test.each([
		[1200, '1200 (number)'],
		[new Date(T0), 'Date'],
		[new Set(['12:00']), 'Set'],
	])('C8 (deviation): time %o that is neither a time nor an array of times is refused', (time, described) => {
		const error = invalidOption(() => untypedLoop({ time }));
		expect(error.option).toBe('time');
		expect(error.message).toContain(described);
	});

	test('C9: an empty time list is refused', () => {
		const error = invalidOption(() => untypedLoop({ time: [] }));
		expect(error.option).toBe('time');
		expect(error.message).toContain('empty');
	});

	test('C10: an element that is not a time is reported with the first bad index', () => {
		const error = invalidOption(() => untypedLoop({ time: ['12:00', 'noon', 5] }));
		expect(error.option).toBe('time[1]');
		expect(error.message).toContain("'noon'");
	});

	test('C11: times naming the same instant are de-duplicated, keeping the first given', () => {
		const created = loop({ time: ['12:00', { hour: 21, timeZone: '+09:00' }] }, noop);
		expect(created.time).toEqual([{ hour: 12, minute: 0, second: 0, timeZone: 'UTC' }]);
	});

	test('C11: the time list is sorted ascending', () => {
		const created = loop({ time: ['18:00', '06:00', '12:00:30'] }, noop);
		expect(created.time?.map((slot) => [slot.hour, slot.minute, slot.second])).toEqual([
			[6, 0, 0],
			[12, 0, 30],
			[18, 0, 0],
		]);
	});

	test('C11 (deviation): fixed-offset duplicates are recognised across midnight (03:00+09:00 is 18:00 UTC)', () => {
		expect(loop({ time: [{ hour: 3, timeZone: '+09:00' }, '18:00'] }, noop).time).toHaveLength(1);
	});

	test('C11 (deviation): IANA-zone times can be mixed with UTC times (no comparison TypeError)', () => {
		const created = loop({ time: [{ hour: 9, timeZone: 'Europe/Berlin' }, '12:00'] }, noop);
		expect(created.time?.map((slot) => slot.timeZone).sort()).toEqual(['Europe/Berlin', 'UTC']);
	});

	test('C12: a time without a zone means UTC', async () => {
		const calls = recordCalls();
		void testLoop({ time: '12:00' }, calls.body).start();
		await advance(12 * 3_600_000);
		expect(calls.times).toEqual([12 * 3_600_000]);
		expect(new Date(T0 + (calls.times[0] ?? Number.NaN)).toISOString()).toBe('2026-01-05T12:00:00.000Z');
	});

	test('C13: the time getter returns a copy: changing it does not change the loop', () => {
		const created = loop({ time: ['06:00', '18:00'] }, noop);
		const copy = created.time;
		copy?.pop();
		const first = copy?.[0] as { hour: number };
		first.hour = 7;
		expect(created.time?.map((slot) => slot.hour)).toEqual([6, 18]);
	});

	test('C13: time is null for an interval loop; seconds/minutes/hours are null for a time loop', () => {
		expect(loop({ seconds: 5 }, noop).time).toBeNull();
		const timed = loop({ time: '06:00' }, noop);
		expect([timed.seconds, timed.minutes, timed.hours]).toEqual([null, null, null]);
	});

	test.each([
		['a number', 42],
		['null', null],
		['an object', { run: noop }],
	])('C14: a body that is %s is refused naming `body`', (_, body) => {
		expect(invalidOption(() => untypedLoop({}, body)).option).toBe('body');
	});

	test('C14 (deviation): a synchronous body is accepted and runs every iteration', async () => {
		let runs = 0;
		const created = testLoop({ seconds: 1, count: 3 }, () => {
			runs += 1;
		});
		await Promise.all([created.start(), advance(3_000)]);
		expect(runs).toBe(3);
	});

	test('C15 (deviation): the default name is the body function name', () => {
		async function refreshStatus() {}
		expect(loop({}, refreshStatus).name).toBe('refreshStatus');
	});

	test('C15 (deviation): an anonymous body gets a unique loop-N name', () => {
		const bodies = [async () => {}, async () => {}] as const;
		const first = loop({}, bodies[0]);
		const second = loop({}, bodies[1]);
		expect(first.name).toMatch(/^loop-\d+$/);
		expect(second.name).toMatch(/^loop-\d+$/);
		expect(second.name).not.toBe(first.name);
	});

	test('C15: a given name is used verbatim', () => {
		expect(loop({ name: 'discord-ext-tasks: Cog.poll  ✓' }, noop).name).toBe('discord-ext-tasks: Cog.poll  ✓');
	});

	test('C15: an empty or non-string name is refused', () => {
		expect(invalidOption(() => untypedLoop({ name: '' })).option).toBe('name');
		expect(invalidOption(() => untypedLoop({ name: 5 })).option).toBe('name');
	});
});

describe('Loop#count and Loop#reconnect', () => {
	test('C16: count is read live: lowering it during a run ends the run at the new count', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 1, count: 10 }, calls.body);
		const run = created.start();
		await advance(1_500);
		created.count = 3;
		await advance(10_000);
		await run;
		expect(calls.times).toEqual([0, 1_000, 2_000]);
		expect(created.isRunning()).toBe(false);
	});

	test('C16: setting count validates it like the option and keeps the old value on refusal', () => {
		const created = loop({ count: 2 }, noop);
		expect(invalidOption(() => (created.count = 0)).option).toBe('count');
		expect(invalidOption(() => (created.count = 2.5)).option).toBe('count');
		expect(created.count).toBe(2);
		created.count = null;
		expect(created.count).toBeNull();
	});

	test('C16: reconnect is read live: turning it off makes the next handled error end the run', async () => {
		const onError = vi.fn();
		const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
		const calls = recordCalls((index) => {
			if (index >= 1) throw reset;
		});
		const created = testLoop({ seconds: 1, onError }, calls.body);
		const run = created.start();
		await flush();
		expect(created.reconnect).toBe(true);
		created.reconnect = false;
		await advance(1_000);
		await expect(run).rejects.toBe(reset);
		expect(onError).toHaveBeenCalledWith(reset, created);
		expect(calls.times).toEqual([0, 1_000]);
	});

	test('C16: reconnect defaults to true and can be set false by option', () => {
		expect(loop({}, noop).reconnect).toBe(true);
		expect(loop({ reconnect: false }, noop).reconnect).toBe(false);
		expect(invalidOption(() => untypedLoop({ reconnect: 'yes' })).option).toBe('reconnect');
	});
});

describe('a new Loop', () => {
	test('C17: starts idle: iteration 0, not running, not failed, not being cancelled, no next iteration', () => {
		const created = loop({ seconds: 5 }, noop);
		expect(created.currentLoop).toBe(0);
		expect(created.isRunning()).toBe(false);
		expect(created.failed()).toBe(false);
		expect(created.isBeingCancelled()).toBe(false);
		expect(created.nextIteration).toBeNull();
		expect(created.state).toBe(LoopState.Idle);
		expect(created.signal).toBeUndefined();
	});

	test('C17: starts with the default exception types, in order', () => {
		const created = loop({}, noop);
		expect(created.exceptionTypes).toEqual([...DEFAULT_EXCEPTION_TYPES]);
		expect(created.exceptionTypes).toHaveLength(6);
	});
});

describe('an interval of 0', () => {
	test('C18: runs iterations back to back: the schedule adds no delay between them', async () => {
		const calls = recordCalls();
		const created = testLoop({ count: 5, clock: exactClock }, calls.body);
		await Promise.all([created.start(), flush()]);
		expect(calls.times).toHaveLength(5);
		expect(new Set(calls.times).size).toBe(1);
	});

	test('C18: yields to the event loop once per iteration (a callback queued by a body runs before the next body)', async () => {
		const order: string[] = [];
		const created = testLoop({ seconds: 0, count: 3 }, () => {
			const index = order.filter((entry) => entry.startsWith('body')).length;
			order.push(`body ${index}`);
			setImmediate(() => order.push(`callback ${index}`));
		});
		// Each yield is a zero-delay timer, which fake-timers places 1 ms ahead during a tick.
		await Promise.all([created.start(), advance(10)]);
		expect(order).toEqual(['body 0', 'callback 0', 'body 1', 'callback 1', 'body 2', 'callback 2']);
	});
});

describe('interval bounds', () => {
	test('C19: no upper bound is validated: a yearly interval is accepted', () => {
		const created = loop({ hours: 24 * 366 }, noop);
		expect(created.hours).toBe(24 * 366);
	});

	test('C19: a yearly loop runs its first iteration at once and waits a whole year for the second', async () => {
		const calls = recordCalls();
		void testLoop({ hours: 24 * 365 }, calls.body).start();
		await advance(0);
		expect(calls.times).toEqual([0]);
		await advance(364 * 86_400_000);
		expect(calls.times).toEqual([0]);
		await advance(86_400_000);
		expect(calls.times).toEqual([0, 365 * 86_400_000]);
		expect(elapsed()).toBe(365 * 86_400_000);
	});
});

describe('Loop hooks given as options', () => {
	test.each(['beforeLoop', 'afterLoop', 'onError', 'retryOn'] as const)('P12: %s must be a function', (option) => {
		expect(invalidOption(() => untypedLoop({ [option]: 'not a function' })).option).toBe(option);
	});

	test('P12: the logger and clock options must have the right methods', () => {
		expect(invalidOption(() => untypedLoop({ logger: { warn: noop } })).option).toBe('logger');
		expect(invalidOption(() => untypedLoop({ clock: { now: () => 0 } })).option).toBe('clock');
	});

	test('P12: jitterMs and missedIterations are validated', () => {
		expect(invalidOption(() => untypedLoop({ jitterMs: -1 })).option).toBe('jitterMs');
		expect(invalidOption(() => untypedLoop({ missedIterations: 'drop' })).option).toBe('missedIterations');
	});
});
