import { describe, expect, test } from 'vitest';
import {
	ErrorCode,
	ExponentialBackoff,
	InvalidOptionError,
	type Loop,
	LoopController,
	type LoopOptions,
	loop,
	TaskPool,
} from '../../../src/index.js';
import { MAX_SCHEDULE_MS } from '../../../src/protocol/index.js';
import { advance, T0 } from '../../helpers/fake-time.js';
import { invalidOption } from '../../helpers/invalid-option.js';
import { testLoop, useLoopTestTime } from '../../helpers/loops.js';

useLoopTestTime();

const noop = () => {};

/** Builds a loop from options the type system would refuse (what a JavaScript caller can pass). */
function untypedLoop(options: unknown): Loop<[]> {
	return loop(options as LoopOptions<Loop<[]>>, noop);
}

describe('number-valued options stay in the range where Dates and timers are valid', () => {
	test.each([
		[{ seconds: 1e13 }, 'seconds', '3153600000'],
		[{ minutes: 1e12 }, 'minutes', '52560000'],
		[{ hours: 1e9 }, 'hours', '876000'],
		[{ jitterMs: 1e300 }, 'jitterMs', '3153600000000'],
		[{ count: 2 ** 60 }, 'count', String(Number.MAX_SAFE_INTEGER)],
	])('%o is refused naming %s and its limit %s', (options, option, limit) => {
		const error = invalidOption(() => untypedLoop(options));
		expect(error.option).toBe(option);
		expect(error.message).toContain(`to ${limit}`);
		expect(error.message).toContain('got ');
	});

	test('an interval below 1 ms (seconds: 1e-320) is refused: the next target would be Infinity', () => {
		const error = invalidOption(() => untypedLoop({ seconds: 1e-320 }));
		expect(error.option).toBe('seconds');
		expect(error.message).toMatch(/0 or from 1 ms/);
	});

	test('components that are each in range but add up past 100 years are refused', () => {
		const error = invalidOption(() => untypedLoop({ seconds: 3e9, minutes: 5e7 }));
		expect(error.message).toContain('100 years');
	});

	test('the longest interval still gives a valid nextIteration and controller status', async () => {
		const controller = new LoopController();
		const longest = controller.loop({ name: 'longest', hours: 876_000, jitterMs: 3_153_600_000_000 }, noop);
		void longest.start();
		await advance(1);
		expect(Number.isNaN(longest.nextIteration?.getTime())).toBe(false);
		expect(() => controller.status()).not.toThrow();
		await controller.close();
	});

	test('changeInterval() applies the same ranges and changes nothing when it refuses', () => {
		const created = testLoop({ seconds: 5 }, noop);
		expect(invalidOption(() => created.changeInterval({ seconds: 1e13 })).option).toBe('seconds');
		expect(created.seconds).toBe(5);
	});

	test.each([[{ timeoutMs: 1e300 }], [{ timeoutMs: Number.NaN }], [{ timeoutMs: -1 }]])(
		'a worker loop refuses a timeoutMs past the longest schedule (%o), naming the limit',
		(options) => {
			const error = invalidOption(() => loop(options, new URL('../../fixtures/echo.mjs', import.meta.url)));
			expect(error.option).toBe('timeoutMs');
			expect(error.message).toContain(String(MAX_SCHEDULE_MS));
		},
	);

	test('a worker loop takes a timeoutMs past one timer (2^31 ms): both sides split it into timers', () => {
		expect(() => loop({ timeoutMs: 2 ** 31 }, new URL('../../fixtures/echo.mjs', import.meta.url))).not.toThrow();
	});

	test.each([
		['graceMs', { graceMs: 1e300 }],
		['idleTimeoutMs', { idleTimeoutMs: Number.POSITIVE_INFINITY }],
		['threads', { threads: 1e9 }],
		['threads', { threads: 1.5 }],
		['maxQueue', { maxQueue: -1 }],
		['env', { env: 'PATH' }],
		['clock', { clock: { now: () => 0 } }],
	])('TaskPool refuses %s out of range (%o)', (option, options) => {
		expect(invalidOption(() => new TaskPool(options as never)).option).toBe(option);
	});

	test('LoopController refuses a closeTimeoutMs past the longest timer', () => {
		const error = invalidOption(() => new LoopController({ closeTimeoutMs: 1e13 }));
		expect(error.option).toBe('closeTimeoutMs');
		expect(error.message).toContain('2147483647');
	});
});

describe('a user random() and clock are checked where they are used', () => {
	test('random() returning NaN ends the run with an error naming random(), after no iteration', async () => {
		let runs = 0;
		const created = testLoop({ seconds: 60, jitterMs: 1000, random: () => Number.NaN }, () => {
			runs += 1;
		});
		const run = created.start();
		await advance(300);
		await expect(run).rejects.toMatchObject({ code: ErrorCode.InvalidOption, option: 'random()' });
		expect(runs).toBe(0);
	});

	test.each([[2], [-0.1], [Number.POSITIVE_INFINITY]])('random() returning %d fails the backoff', async (value) => {
		let calls = 0;
		const created = testLoop({ seconds: 60, random: () => value }, () => {
			calls += 1;
			throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
		});
		const run = created.start();
		await advance(300);
		await expect(run).rejects.toBeInstanceOf(InvalidOptionError);
		expect(calls).toBe(1);
	});

	test('ExponentialBackoff checks the random source it is given', () => {
		expect(() => new ExponentialBackoff({ random: () => Number.NaN }).delay()).toThrow(InvalidOptionError);
	});

	test('a clock whose now() is NaN ends the run with an error naming clock.now(), never spinning', async () => {
		let runs = 0;
		let reads = 0;
		const clock = {
			now: () => {
				reads += 1;
				return Number.NaN;
			},
			sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
		};
		const created = testLoop({ seconds: 60, clock }, () => {
			runs += 1;
		});
		const run = created.start();
		await advance(300);
		await expect(run).rejects.toMatchObject({ option: 'clock.now()' });
		expect(created.isRunning()).toBe(false);
		expect(runs).toBe(0);
		expect(reads).toBeLessThan(5);
	});

	test('a sane user clock and random are used as given', async () => {
		const seen: number[] = [];
		const created = testLoop(
			{ seconds: 1, count: 2, jitterMs: 100, random: () => 0.25, clock: { now: () => Date.now(), sleep: sleepFor } },
			() => {
				seen.push(Date.now() - T0);
			},
		);
		const run = created.start();
		// A11: a count loop sleeps one more interval (with its jitter) before it ends.
		await advance(2050);
		await run;
		expect(seen).toEqual([0, 1025]);
	});
});

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(resolve, ms);
		signal?.addEventListener('abort', () => {
			clearTimeout(timer);
			reject(signal.reason);
		});
	});
}
