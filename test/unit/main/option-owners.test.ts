import { describe, expect, test } from 'vitest';
import { type Loop, LoopController, type LoopOptions, loop } from '../../../src/index.js';
import { invalidOption } from '../../helpers/invalid-option.js';

const noop = () => {};
const taskUrl = new URL('../../fixtures/echo.mjs', import.meta.url);

/** Options the type system would refuse, as a JavaScript caller can pass them. */
const untyped = (options: object) => options as LoopOptions<Loop<[]>>;

describe('an option of another kind of loop is named as such, not as unknown', () => {
	test.each([['timeoutMs'], ['pool'], ['isolation'], ['exportName']])(
		'`%s` on a main-thread loop says it belongs to worker loops',
		(key) => {
			const error = invalidOption(() => loop(untyped({ seconds: 1, [key]: 1 }), noop));
			expect(error.option).toBe(key);
			expect(error.message).toMatch(
				new RegExp(`^\`${key}\` is an option of worker loops \\(a task module as the body`),
			);
			expect(error.message).not.toContain('Unknown');
		},
	);

	test('`waitUntilReady` on a bare loop says it belongs to LoopController loops', () => {
		for (const body of [noop, taskUrl] as const) {
			const error = invalidOption(() => loop(untyped({ waitUntilReady: true }), body as () => void));
			expect(error.message).toContain('`waitUntilReady` is an option of loops created by a LoopController');
		}
	});

	test('`discord` on a main-thread loop says it belongs to worker loops of a LoopController', () => {
		const error = invalidOption(() => loop(untyped({ discord: { channels: ['1'] } }), noop));
		expect(error.message).toContain('`discord` is an option of worker loops created by a LoopController');
	});

	test('`timeoutMs` on a main-thread loop of a controller says it belongs to worker loops', () => {
		const tasks = new LoopController();
		const error = invalidOption(() => tasks.loop(untyped({ name: 'x', timeoutMs: 5 }), noop));
		expect(error.message).toContain('`timeoutMs` is an option of worker loops');
	});

	test('a typo is still reported as an unknown option with the accepted list', () => {
		const error = invalidOption(() => loop(untyped({ second: 5 }), noop));
		expect(error.message).toMatch(/^Unknown loop\(\) option `second`: expected one of seconds, minutes, hours/);
	});
});
