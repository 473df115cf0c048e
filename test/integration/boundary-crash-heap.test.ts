import { setTimeout as delay } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WorkerCrashedError } from 'discord-tasks';
import { expect, test } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

// Issue #8: a task that crashes its worker on purpose, again and again, must not make the main thread retain
// memory for each dead worker (its channels must go with it).

const { testPool, workerLoop } = useWorkerLoops();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function settledHeap(): Promise<number> {
	for (let round = 0; round < 4; round++) {
		await delay(20);
		gc();
	}
	return process.memoryUsage().heapUsed;
}

const CRASHES = 200;

test(`${CRASHES} crashed workers leave well under 1 KB of main-thread heap each`, { timeout: 60_000 }, async () => {
	const pool = testPool({ threads: 1 });
	// Counted, not kept: the errors themselves must not be what the heap retains.
	let crashes = 0;
	let others = 0;
	const crashing = workerLoop(
		{
			count: 1,
			pool,
			reconnect: false,
			onError: (error) => {
				if (error instanceof WorkerCrashedError) crashes += 1;
				else others += 1;
			},
		},
		'hostile/exit.mjs',
	);
	const crash = async (times: number) => {
		for (let i = 0; i < times; i++) await crashing.start().catch(() => {});
	};

	await crash(20);
	const before = await settledHeap();
	await crash(CRASHES);
	const after = await settledHeap();

	expect({ crashes, others }).toEqual({ crashes: 20 + CRASHES, others: 0 });
	const perCrash = (after - before) / CRASHES;
	expect(perCrash, `${Math.round(perCrash)} bytes retained per crashed worker`).toBeLessThan(1024);
});
