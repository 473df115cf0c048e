import { afterEach } from 'vitest';

/** Something a test created and must dispose of: a pool, a loop, a port. */
export type Cleanup = () => unknown;

/**
 * A list of disposers drained (last first) after each test of the calling file, so a failing test never leaves a
 * worker or a port behind for the next one. Call it once at the top level of a test file.
 *
 * @returns `defer(fn)`: registers `fn` and returns nothing; `track(value, dispose)`: registers `dispose(value)` and
 * returns `value`, for `const pool = track(new TaskPool(), (p) => p.close())`.
 */
export function useCleanups(): {
	defer(cleanup: Cleanup): void;
	track<T>(value: T, dispose: (value: T) => unknown): T;
} {
	const cleanups: Cleanup[] = [];
	afterEach(async () => {
		const errors: unknown[] = [];
		for (const cleanup of cleanups.splice(0).reverse()) {
			try {
				await cleanup();
			} catch (error) {
				errors.push(error);
			}
		}
		if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
	});
	return {
		defer(cleanup) {
			cleanups.push(cleanup);
		},
		track(value, dispose) {
			cleanups.push(() => dispose(value));
			return value;
		},
	};
}
