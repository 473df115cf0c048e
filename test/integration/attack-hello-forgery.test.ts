import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, test, vi } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

// The hello binds a port to a worker; a task that could forge one would receive the cancels (and replies) meant
// for another worker. The key that authenticates a hello must be out of the task's reach (process.env,
// workerData, piscina's workerData), and a hello in the current shape with any key the task can find, for its own
// thread or a neighbour, must bind nothing: a cancel broadcast for another loop must not reach its ports.

const { testPool, workerLoop } = useWorkerLoops();

describe('a task forging hellos in the current shape', () => {
	test('finds no key, binds no port, and hears no cancel of another loop', async () => {
		const started: string[] = [];
		let posted = false;
		const pool = testPool({
			threads: 2,
			minThreads: 2,
			graceMs: 500,
			services: {
				started: (label: string) => void started.push(label),
				sawAbort: () => {},
				posted: () => {
					posted = true;
				},
			},
		});
		const sniffer = workerLoop({ count: 1, pool, reconnect: false, onError() {} }, 'hostile/hello-sniffer.mjs');
		const completed = vi.fn();
		sniffer.on('iterationCompleted', completed);
		const sniffing = sniffer.start(1500).catch(() => {});
		while (!posted) await delay(10);

		// A victim on the other worker, cancelled while the sniffer listens.
		const victim = workerLoop({ count: 1, pool, reconnect: false, onError() {} }, 'hostile/wait-for-cancel.mjs');
		const running = victim.start('victim').catch(() => {});
		while (started.length < 1) await delay(10);
		victim.cancel();
		await running;
		await sniffing;

		const result = completed.mock.calls[0]?.[0]?.result as { envHasKey: boolean; received: string[] };
		expect(result.envHasKey).toBe(false);
		expect(result.received).toEqual([]);
	});
});
