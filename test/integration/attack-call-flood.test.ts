import { describe, expect, test, vi } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

// A worker keeps the task's CPU away from the gateway only if what the task sends cannot occupy the main thread
// instead. Node hands a port's queued messages to the main thread in one go, so 40k calls posted at once (a
// forgotten `await` in a loop, no port tricks) would be answered in one stretch, with nothing else running
// meanwhile: no gateway heartbeat, no timer, no other loop. The main thread must read them in turns.

const { testPool, workerLoop } = useWorkerLoops();

/** Calls the host server reads per turn of the event loop (src/main/host-server.ts), with room for one more. */
const MAX_CALLS_PER_TURN = 2 * 256;

describe('a task that fires 40k host calls at once', () => {
	test('the main thread answers them in turns of the event loop, and every call is answered', async () => {
		let calls = 0;
		const pool = testPool({ services: { tally: () => void calls++ } });
		const flooder = workerLoop({ count: 1, pool, reconnect: false }, 'hostile/many-calls.mjs');
		const completed = vi.fn();
		flooder.on('iterationCompleted', completed);
		// One tick per turn of the event loop: the most service calls made between two ticks is what one turn took.
		let mostPerTurn = 0;
		let seen = 0;
		let ticking = true;
		const tick = () => {
			mostPerTurn = Math.max(mostPerTurn, calls - seen);
			seen = calls;
			if (ticking) setImmediate(tick);
		};
		setImmediate(tick);

		await flooder.start(40_000, 'tally');
		ticking = false;

		expect(completed.mock.calls[0]?.[0]?.result).toEqual({ refused: 0 });
		expect(calls).toBe(40_000);
		expect(mostPerTurn).toBeGreaterThan(0);
		expect(mostPerTurn).toBeLessThanOrEqual(MAX_CALLS_PER_TURN);
	}, 20_000);
});
