import { setTimeout as delay } from 'node:timers/promises';
import { InvalidOptionError, WorkerCrashedError } from 'discord-tasks';
import { describe, expect, test, vi } from 'vitest';
import { MAX_PARENT_PORT_MESSAGES } from '../../src/main/worker-channels.js';
import { useWorkerLoops } from '../helpers/worker-loops.js';

// Issue #8: one task must not be able to break the pool for every other loop, and values that only look
// cloneable must fail as what they are, once, rather than as a crashed worker retried forever.

const { testPool, workerLoop } = useWorkerLoops();

/** Settles with the run's outcome, or 'still running' after `ms`. */
function within(run: Promise<void>, ms: number): Promise<unknown> {
	return Promise.race([
		run.then(
			() => 'completed',
			(error: unknown) => error,
		),
		delay(ms).then(() => 'still running'),
	]);
}

describe('messages a task posts on parentPort', () => {
	const kinds = [
		'null',
		'string',
		'number',
		'empty object',
		'hello without ports',
		'hello without thread id',
		'hello with a wrong version',
		'hello with the next thread id',
		'hello with the previous thread id',
		'hello again',
	];

	test.each(kinds)("%s: the pool's other loops keep running", async (kind) => {
		const pool = testPool({ threads: 2, minThreads: 2 });
		const poster = workerLoop({ count: 1, pool, reconnect: false, onError() {} }, 'hostile/parent-port.mjs');
		await poster.start([kind]).catch(() => {});

		const healthy = workerLoop({ count: 4, pool, reconnect: false }, 'echo.mjs');
		const completed = vi.fn();
		healthy.on('iterationCompleted', completed);
		await expect(healthy.start('still fine')).resolves.toBeUndefined();
		expect(completed).toHaveBeenCalledTimes(4);
		// And the loop that posted them runs again too.
		await expect(workerLoop({ count: 1, pool, reconnect: false }, 'echo.mjs').start()).resolves.toBeUndefined();
	});

	test(`a flood of them (more than ${MAX_PARENT_PORT_MESSAGES}) gets that worker replaced; the other loops keep running`, async () => {
		const pool = testPool({ threads: 2, minThreads: 2 });
		const failures: unknown[] = [];
		// The body never returns: without the pool's answer to the flood it would end as a TaskTimeoutError.
		const flooder = workerLoop(
			{ count: 1, pool, reconnect: false, timeoutMs: 10_000 },
			'hostile/parent-port-flood.mjs',
		);
		flooder.on('iterationFailed', ({ error }) => failures.push(error));
		await flooder.start(100_000).catch(() => {});

		expect(failures).toHaveLength(1);
		expect(failures[0]).toBeInstanceOf(WorkerCrashedError);
		const healthy = workerLoop({ count: 2, pool, reconnect: false }, 'echo.mjs');
		await expect(healthy.start()).resolves.toBeUndefined();
	});

	test('a hello whose ports are not ports raises nothing on the main thread', async () => {
		const uncaught: unknown[] = [];
		const record = (error: unknown) => uncaught.push(error);
		process.on('uncaughtException', record);
		try {
			const pool = testPool({ threads: 2, minThreads: 2 });
			const poster = workerLoop({ count: 1, pool, reconnect: false, onError() {} }, 'hostile/parent-port.mjs');
			await poster.start(['hello whose ports are not ports']).catch(() => {});
			await delay(100);
			const healthy = workerLoop({ count: 2, pool, reconnect: false }, 'echo.mjs');
			await expect(healthy.start()).resolves.toBeUndefined();
		} finally {
			process.off('uncaughtException', record);
		}
		expect(uncaught.map(String)).toEqual([]);
	});
});

describe("a hello naming another worker's thread", () => {
	test("does not take over that worker's cancellation: a cancelled body there still sees ctx.signal abort", async () => {
		const started: string[] = [];
		const sawAbort: string[] = [];
		const pool = testPool({
			threads: 2,
			minThreads: 2,
			graceMs: 500,
			services: {
				started: (label: string) => void started.push(label),
				sawAbort: (label: string) => void sawAbort.push(label),
			},
		});
		const poster = workerLoop({ count: 1, pool, reconnect: false, onError() {} }, 'hostile/parent-port.mjs');
		await poster.start(['hello with the next thread id', 'hello with the previous thread id']).catch(() => {});

		// Two bodies at once occupy both workers, so one of them runs on the worker the hello named.
		const victims = ['first', 'second'].map((label) => ({
			label,
			loop: workerLoop({ count: 1, pool, reconnect: false, onError() {} }, 'hostile/wait-for-cancel.mjs'),
		}));
		const runs = victims.map(({ loop, label }) => loop.start(label).catch(() => {}));
		while (started.length < 2) await delay(10);
		for (const { loop } of victims) loop.cancel();
		await Promise.all(runs);
		// A run ends at cancel(); the bodies report a moment later, well within the grace period.
		for (let waited = 0; sawAbort.length < 2 && waited < 1000; waited += 10) await delay(10);

		expect(sawAbort.sort()).toEqual(['first', 'second']);
	});
});

describe('a Proxy crossing to or from a worker', () => {
	test('as a start() argument: refused at start(), or one clear failure; never a crashed worker retried', async () => {
		const failures: unknown[] = [];
		const looped = workerLoop({ count: 1, pool: testPool() }, 'echo.mjs');
		looped.on('iterationFailed', ({ error }) => failures.push(error));
		let run: Promise<void>;
		try {
			run = looped.start(new Proxy({ rows: 1 }, {}));
		} catch (error) {
			expect(error).toBeInstanceOf(InvalidOptionError);
			return;
		}
		const outcome = await within(run, 2000);

		expect(failures.filter((error) => error instanceof WorkerCrashedError)).toEqual([]);
		expect(failures.length).toBeLessThanOrEqual(1);
		expect(outcome).not.toBe('still running');
		expect(outcome).not.toBeInstanceOf(WorkerCrashedError);
	});

	test('as a task result: that iteration fails with a clear error, not WorkerCrashedError, and is not retried', async () => {
		const failures: unknown[] = [];
		const looped = workerLoop({ count: 1, pool: testPool() }, 'hostile/proxy-result.mjs');
		looped.on('iterationFailed', ({ error }) => failures.push(error));
		const outcome = await within(looped.start(), 2000);

		expect(failures).toHaveLength(1);
		expect(failures[0]).not.toBeInstanceOf(WorkerCrashedError);
		expect(String((failures[0] as Error).message)).toMatch(/clone|Proxy|result/i);
		expect(outcome).toBe(failures[0]);
	});
});

describe('timeoutMs past setTimeout’s 32-bit range', () => {
	test.each([2 ** 31, 2 ** 31 + 5])('timeoutMs %d: a 50 ms body completes normally', async (timeoutMs) => {
		const results: unknown[] = [];
		const looped = workerLoop({ count: 1, pool: testPool(), timeoutMs, reconnect: false }, 'hostile/sleep.mjs');
		looped.on('iterationCompleted', ({ result }) => results.push(result));

		await expect(looped.start(50)).resolves.toBeUndefined();
		expect(results).toEqual(['slept']);
	});
});
