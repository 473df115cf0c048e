import { type LoopOptions, WorkerCrashedError, type WorkerLoopOptions } from 'discord-tasks';
import { describe, expect, test, vi } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

const { testPool, workerLoop, defer } = useWorkerLoops();

/** Runs `file` once with `args` and resolves with the iteration's result (the run must succeed). */
async function runOnce(options: LoopOptions & WorkerLoopOptions, file: string, ...args: unknown[]): Promise<unknown> {
	const once = workerLoop({ count: 1, reconnect: false, ...options }, file);
	const completed = vi.fn();
	once.on('iterationCompleted', completed);
	await once.start(...args);
	expect(completed).toHaveBeenCalledOnce();
	return completed.mock.calls[0]?.[0].result;
}

/** Worker threads of this process right now (the diagnostic report lists them; nothing else does). */
function liveWorkers(): number {
	return (process.report.getReport() as { workers: unknown[] }).workers.length;
}

/** Sets environment variables for the test and restores them afterwards. */
function setEnv(values: Record<string, string>): void {
	for (const [name, value] of Object.entries(values)) {
		const previous = process.env[name];
		process.env[name] = value;
		defer(() => {
			if (previous === undefined) delete process.env[name];
			else process.env[name] = previous;
		});
	}
}

describe("isolation: 'dedicated'", () => {
	test('runs the loop in a worker of its own', async () => {
		const shared = testPool();

		const sharedThread = await runOnce({ pool: shared }, 'where.mjs');
		const dedicatedThread = await runOnce({ isolation: 'dedicated' }, 'where.mjs');
		const sharedAgain = await runOnce({ pool: shared }, 'where.mjs');
		const otherDedicated = await runOnce({ isolation: 'dedicated' }, 'where.mjs');

		expect(sharedAgain).toBe(sharedThread);
		expect(dedicatedThread).not.toBe(sharedThread);
		expect(otherDedicated).not.toBe(dedicatedThread);
		expect(otherDedicated).not.toBe(sharedThread);
	});

	test("with a pool, gets a worker of its own that inherits that pool's services and options", async () => {
		const shared = testPool({ services: { add: (a: number, b: number) => a + b } });
		const sharedThread = await runOnce({ pool: shared }, 'where.mjs');

		const dedicatedThread = await runOnce({ pool: shared, isolation: 'dedicated' }, 'where.mjs');
		const sum = await runOnce({ pool: shared, isolation: 'dedicated' }, 'services.mjs', 'add');

		expect(dedicatedThread).not.toBe(sharedThread);
		expect(sum).toBe(3);
	});

	test('a crash in a dedicated worker does not touch a loop on a shared pool', async () => {
		const busy = workerLoop({ count: 4, pool: testPool() }, 'spin.mjs');
		const busyResults = vi.fn();
		busy.on('iterationCompleted', busyResults);
		const crashing = workerLoop({ count: 1, isolation: 'dedicated', reconnect: false, onError: () => {} }, 'crash.mjs');

		const [busyRun, crashRun] = await Promise.allSettled([busy.start('burn', 50), crashing.start('exit')]);

		expect(crashRun).toMatchObject({ status: 'rejected', reason: expect.any(WorkerCrashedError) });
		expect(busyRun.status).toBe('fulfilled');
		const threads = busyResults.mock.calls.map(([info]) => (info.result as { threadId: number }).threadId);
		expect(threads).toHaveLength(4);
		// One worker throughout: it never had to be replaced.
		expect(new Set(threads).size).toBe(1);
	});
});

describe('worker environment', () => {
	const names = ['DISCORD_TOKEN', 'MY_SECRET', 'ONLY_THIS', 'OTHER'];

	test('never contains DISCORD_TOKEN, and keeps the rest by default', async () => {
		setEnv({ DISCORD_TOKEN: 'token-value', MY_SECRET: 'secret', ONLY_THIS: 'kept', OTHER: 'other' });

		await expect(runOnce({ pool: testPool() }, 'env.mjs', names)).resolves.toEqual({
			DISCORD_TOKEN: null,
			MY_SECRET: 'secret',
			ONLY_THIS: 'kept',
			OTHER: 'other',
		});
	});

	test('drops the names in scrubEnv as well', async () => {
		setEnv({ DISCORD_TOKEN: 'token-value', MY_SECRET: 'secret', ONLY_THIS: 'kept', OTHER: 'other' });

		await expect(runOnce({ pool: testPool({ scrubEnv: ['MY_SECRET'] }) }, 'env.mjs', names)).resolves.toEqual({
			DISCORD_TOKEN: null,
			MY_SECRET: null,
			ONLY_THIS: 'kept',
			OTHER: 'other',
		});
	});

	test('with an env allowlist, contains only those names, and still never DISCORD_TOKEN', async () => {
		setEnv({ DISCORD_TOKEN: 'token-value', MY_SECRET: 'secret', ONLY_THIS: 'kept', OTHER: 'other' });
		const pool = testPool({ env: ['ONLY_THIS', 'DISCORD_TOKEN'] });

		await expect(runOnce({ pool }, 'env.mjs', names)).resolves.toEqual({
			DISCORD_TOKEN: null,
			MY_SECRET: null,
			ONLY_THIS: 'kept',
			OTHER: null,
		});
	});

	test('of the default pool does not contain DISCORD_TOKEN either', async () => {
		setEnv({ DISCORD_TOKEN: 'token-value' });

		await expect(runOnce({}, 'env.mjs', ['DISCORD_TOKEN'])).resolves.toEqual({ DISCORD_TOKEN: null });
	});
});

describe('the default pool', () => {
	test('runs a worker loop given no pool, and is closed with its workers when the run ends', async () => {
		// Pools of earlier tests (dedicated ones close in the background) are gone first.
		await vi.waitFor(() => expect(liveWorkers()).toBe(0), { timeout: 5000 });

		const first = await runOnce({}, 'where.mjs');
		await vi.waitFor(() => expect(liveWorkers()).toBe(0), { timeout: 5000 });
		const second = await runOnce({}, 'where.mjs');
		await vi.waitFor(() => expect(liveWorkers()).toBe(0), { timeout: 5000 });

		expect(first).toEqual(expect.any(Number));
		// A new pool, so a new worker: the first pool's worker would have been kept for its 60 s idle timeout.
		expect(second).not.toBe(first);
	});

	test('stays open while another loop still uses it', async () => {
		const long = workerLoop({ count: 3, reconnect: false }, 'spin.mjs');
		const longResults = vi.fn();
		long.on('iterationCompleted', longResults);
		const firstDone = new Promise<void>((resolve) => long.on('iterationCompleted', () => resolve()));
		const longRun = long.start('burn', 100);
		await firstDone;

		// This loop's run ends (and gives the default pool back) while the first loop still has iterations to run.
		await runOnce({}, 'where.mjs');

		await expect(longRun).resolves.toBeUndefined();
		expect(longResults).toHaveBeenCalledTimes(3);
	});
});

describe('TypeScript task modules', () => {
	// Worker threads on Node 20 cannot load .ts, and tsx does not register its loader in workers there; the worker
	// host therefore loads a .ts task through tsx's API when tsx is installed (it is a devDependency here).
	test('a .ts task loads in a worker through tsx, with no loader flags, as the README documents for development', async () => {
		const results: unknown[] = [];
		const typed = workerLoop({ count: 1, pool: testPool() }, 'ts-task.ts');
		typed.on('iterationCompleted', ({ result }) => results.push(result));

		await typed.start(2, 3);

		expect(results).toHaveLength(1);
		expect(results[0]).toMatchObject({ product: 6 });
		expect((results[0] as { threadId: number }).threadId).not.toBe(0);
	});
});

describe('warm workers', () => {
	test("a pool's idle workers import a loop's task when the loop is created, before its first iteration", async () => {
		const pool = testPool({ minThreads: 1 });
		const created = workerLoop({ count: 1, pool }, 'loaded-at.mjs');
		// Time for the idle worker to start and take the warm-up; nothing here runs an iteration.
		await new Promise((resolve) => setTimeout(resolve, 1000));
		let startedAt = 0;
		created.on('iterationStarted', () => {
			startedAt = Date.now();
		});
		const completed = vi.fn();
		created.on('iterationCompleted', completed);

		await created.start();

		expect(completed.mock.calls[0]?.[0].result).toBeLessThan(startedAt);
	});
});
