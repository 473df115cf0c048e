// Kept apart from common.mjs, which the sender child process imports: only the benchmarks that drive a TaskPool
// load the package.
import { task } from './common.mjs';

/**
 * TaskPool's per-iteration path, called the way WorkerExecutor calls it for one iteration of a loop (no loop
 * around it). Returns `(iteration) => Promise` running `taskName` with `args` on `pool`.
 */
export function taskPoolIteration(pool, taskName, { loopName = 'bench', args = [] } = {}) {
	const signal = new AbortController().signal;
	const ref = { moduleUrl: task(taskName).href, exportName: 'default' };
	return (iteration = 0) =>
		pool.runIteration(
			{ task: ref, args, loopName, iteration, timeoutMs: 0 },
			{ signal, scope: { loopName, iteration, allowlist: undefined, discord: undefined } },
		);
}
