import { TaskError } from 'discord-tasks';
import { describe, expect, test } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

// A task's error is rebuilt on the main thread by its name: `TypeError` comes back a TypeError. The lookup must
// only find the built-in error classes, not what every object inherits: an error named `toString` (a buggy
// `class toString extends Error {}` is enough) must come back as an error, and the iteration must fail as a
// TaskError like any other throw, not with a TypeError from inside the rebuild.

const { failuresOf } = useWorkerLoops();

describe('an error whose name is an Object.prototype property', () => {
	test.each(['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf'])(
		'named %s: the iteration fails as a TaskError whose cause is an Error',
		async (name) => {
			const failures = await failuresOf('hostile/forged-error-name.mjs', name);

			expect(failures).toHaveLength(1);
			const [error] = failures;
			expect(error).toBeInstanceOf(TaskError);
			const cause = (error as TaskError).cause;
			expect(cause).toBeInstanceOf(Error);
			expect((cause as Error).message).toBe(`named ${name}`);
		},
	);
});
