import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, test, vi } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

// A worker keeps the task's CPU away from the gateway only if what the task sends cannot occupy the main thread
// instead. Node hands a port's queued messages to the main thread in one go, so 40k calls posted at once (a
// forgotten `await` in a loop, no port tricks) are answered in one stretch, with nothing else running meanwhile: no
// gateway heartbeat, no timer, no other loop. The main thread must keep turning while it answers them.

const { testPool, workerLoop } = useWorkerLoops();

/** The longest the main thread may be kept from other work; a gateway heartbeat is due every 41 s or so. */
const MAX_STALL_MS = 1000;

describe('a task that fires 40k host calls at once', () => {
	test('does not stall the main thread, and every call is still answered', async () => {
		const pool = testPool({ services: {} });
		const flooder = workerLoop({ count: 1, pool, reconnect: false }, 'hostile/many-calls.mjs');
		const completed = vi.fn();
		flooder.on('iterationCompleted', completed);

		const delay = monitorEventLoopDelay({ resolution: 10 });
		delay.enable();
		await flooder.start(40_000);
		delay.disable();

		expect(completed.mock.calls[0]?.[0]?.result).toEqual({ refused: 40_000 });
		expect(delay.max / 1e6).toBeLessThan(MAX_STALL_MS);
	}, 20_000);
});
