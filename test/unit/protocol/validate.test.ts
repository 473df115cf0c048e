import { describe, expect, test } from 'vitest';
import {
	assertClockTime,
	assertKnownKeys,
	assertMethods,
	assertNumber,
	assertStringList,
	assertTimerMs,
	checkedRandom,
	ErrorCode,
	InvalidOptionError,
	MAX_TIMER_MS,
} from '../../../src/protocol/index.js';
import { invalidOption } from '../../helpers/invalid-option.js';

describe('assertNumber', () => {
	test('accepts the limits themselves and returns the value', () => {
		expect(assertNumber(0, 'x', { min: 0, max: 10 })).toBe(0);
		expect(assertNumber(10, 'x', { min: 0, max: 10 })).toBe(10);
	});

	test.each([[Number.NaN], [Number.POSITIVE_INFINITY], [-1], [11], ['5'], [null]])(
		'refuses %o with the range and the value in the message',
		(value) => {
			const error = invalidOption(() => assertNumber(value, 'x', { min: 0, max: 10, unit: 'ms' }));
			expect(error.option).toBe('x');
			expect(error.code).toBe(ErrorCode.InvalidOption);
			expect(error.message).toMatch(/^`x` must be a number of ms from 0 to 10, got /);
		},
	);

	test('an integer range refuses fractions', () => {
		const error = invalidOption(() => assertNumber(1.5, 'threads', { min: 1, max: 4, integer: true }));
		expect(error.message).toBe('`threads` must be an integer from 1 to 4, got 1.5 (number)');
	});
});

describe('assertTimerMs', () => {
	test('passes undefined and the longest timer, refuses one more', () => {
		expect(() => assertTimerMs(undefined, 't')).not.toThrow();
		expect(() => assertTimerMs(MAX_TIMER_MS, 't')).not.toThrow();
		expect(invalidOption(() => assertTimerMs(MAX_TIMER_MS + 1, 't')).message).toContain(String(MAX_TIMER_MS));
	});
});

describe('assertStringList', () => {
	test('accepts arrays of strings, refuses anything else', () => {
		expect(() => assertStringList(['A', 'B'], 'env')).not.toThrow();
		expect(invalidOption(() => assertStringList('A', 'env')).message).toBe(
			"`env` must be an array of strings, got 'A' (string)",
		);
		expect(invalidOption(() => assertStringList([1], 'env')).option).toBe('env');
	});
});

describe('assertMethods', () => {
	test('names the methods the object lacks', () => {
		expect(() => assertMethods({ now() {}, sleep() {} }, 'clock', ['now', 'sleep'])).not.toThrow();
		expect(invalidOption(() => assertMethods({ now() {} }, 'clock', ['now', 'sleep'])).message).toBe(
			'`clock` must be an object with now() and sleep() methods, got an object',
		);
		expect(invalidOption(() => assertMethods(null, 'clock', ['now'])).option).toBe('clock');
	});
});

describe('assertKnownKeys', () => {
	const known = new Set(['seconds', 'minutes']);

	test('lists the accepted keys for a typo', () => {
		const error = invalidOption(() => assertKnownKeys({ second: 1 }, known, 'loop()'));
		expect(error.option).toBe('second');
		expect(error.message).toBe('Unknown loop() option `second`: expected one of seconds, minutes');
	});

	test('says where a key belongs when it is an option of another kind of object', () => {
		const error = invalidOption(() =>
			assertKnownKeys({ timeoutMs: 5 }, known, 'loop()', { timeoutMs: 'worker loops (a task module as the body)' }),
		);
		expect(error.message).toBe(
			'`timeoutMs` is an option of worker loops (a task module as the body), not of this loop()',
		);
	});

	test('an inherited name such as toString is not mistaken for a known key', () => {
		expect(invalidOption(() => assertKnownKeys({ toString: 1 }, known, 'loop()', {})).message).toContain(
			'Unknown loop() option',
		);
	});
});

describe('checkedRandom', () => {
	test('passes values from 0 to 1 through (1 is the upper bound of a backoff draw)', () => {
		expect(checkedRandom(() => 0)()).toBe(0);
		expect(checkedRandom(() => 0.999)()).toBe(0.999);
		expect(checkedRandom(() => 1)()).toBe(1);
	});

	test.each([[Number.NaN], [1.5], [-0.5], [Number.POSITIVE_INFINITY]])('throws for %d, naming random()', (value) => {
		const error = invalidOption(() => checkedRandom(() => value)());
		expect(error.option).toBe('random()');
	});
});

describe('assertClockTime', () => {
	test('returns a finite time, refuses NaN and the infinities', () => {
		expect(assertClockTime(5)).toBe(5);
		for (const bad of [Number.NaN, Number.NEGATIVE_INFINITY, '5']) {
			expect(() => assertClockTime(bad)).toThrow(InvalidOptionError);
		}
	});
});
