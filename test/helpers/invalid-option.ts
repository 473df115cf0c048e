import { expect } from 'vitest';
import { InvalidOptionError } from '../../src/protocol/index.js';

/** Runs `action`, asserts it threw an InvalidOptionError, and returns it (to check `option`, `code`, message). */
export function invalidOption(action: () => unknown): InvalidOptionError {
	let thrown: unknown;
	try {
		action();
	} catch (error) {
		thrown = error;
	}
	expect(thrown).toBeInstanceOf(InvalidOptionError);
	return thrown as InvalidOptionError;
}

/** An ISO date as ms since the epoch. */
export const utc = (iso: string): number => Date.parse(iso);
