import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, test, vi } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

// A task can close its end of the worker's host channel. The main side sees its own end close; if it keeps the
// worker anyway, every later iteration on that worker, of any loop of the pool, sends its host calls into a dead
// port and waits forever (or until its timeout). The worker whose channel closed must be replaced.

const { testPool, workerLoop } = useWorkerLoops();

describe("a task that closes its worker's host channel", () => {
	test('harms only itself: the next loop on that worker still gets its service calls answered', async () => {
		const pool = testPool({ threads: 1, services: { count: () => 1, add: (a: number, b: number) => a + b } });
		const closer = workerLoop({ count: 1, pool, reconnect: false, onError() {} }, 'hostile/close-port.mjs');
		await closer.start().catch(() => {});
		// The main side learns of the close asynchronously; the next loop starts a moment later.
		await delay(200);

		const other = workerLoop({ count: 1, pool, reconnect: false, timeoutMs: 3000, onError() {} }, 'services.mjs');
		const completed = vi.fn();
		const failed = vi.fn();
		other.on('iterationCompleted', completed);
		other.on('iterationFailed', failed);
		await other.start('add').catch(() => {});

		expect(failed.mock.calls.map(([{ error }]) => String(error))).toEqual([]);
		expect(completed.mock.calls[0]?.[0]?.result).toBe(3);
	});
});
