import { TaskPool } from './task-pool.js';

let shared: TaskPool | undefined;
let users = 0;

/**
 * The pool worker loops use when they are given none: created on first use, closed when the last loop using it
 * ends its run, so a script whose loops are done can exit.
 * @internal
 */
export function acquireDefaultPool(): TaskPool {
	users += 1;
	shared ??= new TaskPool();
	return shared;
}

/** Gives back a pool taken with {@link acquireDefaultPool}. @internal */
export async function releaseDefaultPool(): Promise<void> {
	users = Math.max(0, users - 1);
	if (users > 0 || !shared) return;
	const pool = shared;
	shared = undefined;
	await pool.close();
}
