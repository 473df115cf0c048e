import { type LoopOptions, loop, TaskPool, type TaskPoolOptions, type WorkerLoopOptions } from 'discord-tasks';
import { vi } from 'vitest';
import { useCleanups } from './cleanup.js';

/** A fixture task module under test/fixtures, as the URL a worker loop takes. */
export const fixture = (name: string): URL => new URL(`../fixtures/${name}`, import.meta.url);

/**
 * Helpers of the worker integration tests (against the built package), each disposed after every test: a small
 * pool with a short grace period, and worker loops with quiet logs and near-zero backoff delays. Call it once at
 * the top level of a test file.
 */
export function useWorkerLoops() {
	const cleanups = useCleanups();
	return {
		...cleanups,
		testPool(options: TaskPoolOptions = {}): TaskPool {
			return cleanups.track(new TaskPool({ threads: 1, graceMs: 100, ...options }), (pool) => pool.close());
		},
		workerLoop(options: LoopOptions & WorkerLoopOptions, file: string) {
			const created = loop(
				{ logger: { warn: vi.fn(), error: vi.fn() }, random: () => 0.001, ...options },
				fixture(file),
			);
			return cleanups.track(created, (each) => each[Symbol.asyncDispose]());
		},
		/** Runs `file` once (no retry) on a pool of its own with `args`, and returns the errors its iterations failed with. */
		async failuresOf(file: string, ...args: unknown[]): Promise<unknown[]> {
			const pool = cleanups.track(new TaskPool({ threads: 1, graceMs: 100 }), (each) => each.close());
			const created = cleanups.track(
				loop({ logger: { warn: vi.fn(), error: vi.fn() }, count: 1, pool, reconnect: false }, fixture(file)),
				(each) => each[Symbol.asyncDispose](),
			);
			const failures: unknown[] = [];
			created.on('iterationFailed', ({ error }) => failures.push(error));
			await created.start(...args).catch(() => {});
			return failures;
		},
	};
}
