import { TaskError } from 'discord-tasks';
import { describe, expect, test } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

// A body may throw anything, and a thrown non-Error comes back to the main thread as the value itself. The main
// thread describes it in the TaskError's message; a plain object whose `toString` or `valueOf` is data, not a
// function, cannot be turned into a string, and describing it must not throw in place of the TaskError.

const { failuresOf } = useWorkerLoops();

describe('a body that throws a plain object that cannot be converted to a string', () => {
	test.each([
		['toString is a string', { toString: 'x' }],
		['toString and valueOf are data', { toString: 'x', valueOf: 'y' }],
		['toString is a number', { toString: 1 }],
	])('%s: the iteration fails as a TaskError whose cause is the value', async (_, value) => {
		const failures = await failuresOf('hostile/throw-value.mjs', value);

		expect(failures).toHaveLength(1);
		const [error] = failures;
		expect(error).toBeInstanceOf(TaskError);
		expect((error as TaskError).cause).toEqual(value);
	});
});
