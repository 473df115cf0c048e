import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { ExponentialBackoff, MAX_BACKOFF_EXPONENT } from '../../../src/index.js';
import { advance, T0 } from '../../helpers/fake-time.js';
import { cancelTestLoops, connectionReset, testLoop } from '../../helpers/loops.js';
import { recordingLogger } from '../../helpers/recording-logger.js';

beforeEach(() => {
	vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
	cancelTestLoops();
	vi.useRealTimers();
});

/** A backoff whose random() returns 1 (every delay is its upper bound) on a hand-driven clock. */
function boundsBackoff(options: { baseMs?: number } = {}) {
	const clock = { now: 0 };
	const backoff = new ExponentialBackoff({ ...options, random: () => 1, now: () => clock.now });
	return { backoff, clock };
}

describe('new ExponentialBackoff()', () => {
	test('B1: starts at exponent 0, capped at 10, with a base of 1 s', () => {
		const { backoff } = boundsBackoff();
		expect(backoff.exponent).toBe(0);
		expect(MAX_BACKOFF_EXPONENT).toBe(10);
		expect(backoff.delay()).toBe(2_000);
		expect(backoff.exponent).toBe(1);
	});

	test('B1: measures the reset window from construction for the first call', () => {
		const { backoff, clock } = boundsBackoff();
		clock.now = 2_048_001;
		expect(backoff.delay()).toBe(2_000);
		expect(backoff.exponent).toBe(1);
	});

	test('B1: defaults to Date.now and Math.random', async () => {
		const backoff = new ExponentialBackoff();
		const first = backoff.delay();
		expect(first).toBeGreaterThanOrEqual(0);
		expect(first).toBeLessThanOrEqual(2_000);
		backoff.delay();
		expect(backoff.exponent).toBe(2);
		await advance(2_048_001);
		backoff.delay();
		expect(backoff.exponent).toBe(1);
	});
});

describe('ExponentialBackoff#delay', () => {
	test('B2: draws uniformly from [0, base * 2 ** exponent] as a float', () => {
		const draws = [0, 0.25, 0.123456];
		const backoff = new ExponentialBackoff({ random: () => draws.shift() ?? 0, now: () => 0 });
		expect(backoff.delay()).toBe(0);
		expect(backoff.delay()).toBe(1_000);
		expect(backoff.delay()).toBeCloseTo(987.648, 9);
	});

	test('B2: with integral, draws whole milliseconds below the bound (upper bound exclusive)', () => {
		const draws = [0.9999, 0.5, 0.123456];
		const backoff = new ExponentialBackoff({ integral: true, random: () => draws.shift() ?? 0, now: () => 0 });
		expect(backoff.delay()).toBe(1_999);
		expect(backoff.delay()).toBe(2_000);
		expect(backoff.delay()).toBe(987);
	});

	test('B3: the bounds for base 1 s double from 2 s and stop at 1024 s; the first ten add up to 2046 s', () => {
		const { backoff } = boundsBackoff();
		const bounds = Array.from({ length: 12 }, () => backoff.delay());
		expect(bounds).toEqual([
			2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 1_024_000, 1_024_000, 1_024_000,
		]);
		expect(bounds.slice(0, 10).reduce((sum, bound) => sum + bound, 0)).toBe(2_046_000);
		expect(backoff.exponent).toBe(10);
	});

	test('B4: with base 5 s the bounds are 10 s, 20 s, 40 s and the reset window is 10240 s', () => {
		const { backoff, clock } = boundsBackoff({ baseMs: 5_000 });
		expect([backoff.delay(), backoff.delay(), backoff.delay()]).toEqual([10_000, 20_000, 40_000]);
		clock.now += 10_240_000;
		expect(backoff.delay()).toBe(80_000);
		clock.now += 10_240_001;
		expect(backoff.delay()).toBe(10_000);
	});

	test('B5: resets only when more than the window (2048 s) passed since the previous call', () => {
		const { backoff, clock } = boundsBackoff();
		backoff.delay();
		backoff.delay();
		clock.now += 2_048_000;
		expect(backoff.delay()).toBe(8_000);
		clock.now += 2_048_001;
		expect(backoff.delay()).toBe(2_000);
	});

	test('B5: calls less than the window apart keep escalating, however long the whole sequence', () => {
		const { backoff, clock } = boundsBackoff();
		const bounds: number[] = [];
		for (let call = 0; call < 5; call++) {
			bounds.push(backoff.delay());
			clock.now += 2_000_000;
		}
		expect(bounds).toEqual([2_000, 4_000, 8_000, 16_000, 32_000]);
	});

	test('B7: the first delay can be up to twice the base, not just the base', () => {
		const backoff = new ExponentialBackoff({ baseMs: 1_000, random: () => 0.999, now: () => 0 });
		expect(backoff.delay()).toBeCloseTo(1_998, 9);
	});
});

describe('the backoff of a Loop', () => {
	test('B6: uses the defaults: base 1 s and float delays', async () => {
		const logger = recordingLogger();
		const delays: number[] = [];
		const created = testLoop({ seconds: 60, logger, random: () => 0.123456 }, () => {
			throw connectionReset();
		});
		created.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
		void created.start();
		await advance(1_000);
		expect(delays).toHaveLength(3);
		expect(delays[0]).toBeCloseTo(246.912, 9);
		expect(delays[1]).toBeCloseTo(493.824, 9);
		expect(delays[2]).toBeCloseTo(987.648, 9);
		expect(logger.warn.mock.calls.map(([message]) => message.slice(-5))).toEqual(['0.25s', '0.49s', '0.99s']);
	});

	test('B5: a Loop keeps one backoff per run, so successes in between do not reset it', async () => {
		const delays: number[] = [];
		let call = 0;
		const created = testLoop({ seconds: 1 }, () => {
			if (call++ % 2 === 1) throw connectionReset();
		});
		created.on('reconnecting', ({ delayMs }) => delays.push(delayMs));
		void created.start();
		await advance(30_000);
		expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
	});
});
