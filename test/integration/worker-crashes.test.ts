import type { Worker } from 'node:worker_threads';
import { ErrorCode, type TaskPoolOptions, WorkerCrashedError } from 'discord-tasks';
import { describe, expect, test, vi } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

const { testPool, workerLoop } = useWorkerLoops();

/**
 * A pool whose crashing task asks the main thread (a service) whether this is its first attempt; that first call
 * also takes a snapshot of the workers the process had started by then. `crashOnce()` runs a loop whose first
 * attempt exits its worker and whose retry (no backoff) returns the thread it ran on.
 */
function spareProbe(options: TaskPoolOptions) {
	const started = new Set<number>();
	const onWorker = (worker: Worker) => started.add(worker.threadId);
	process.on('worker', onWorker);
	const probe = { beforeCrash: new Set<number>(), attempts: [] as number[] };
	const pool = testPool({
		...options,
		services: {
			firstAttempt: (threadId: number) => {
				if (probe.attempts.length === 0) probe.beforeCrash = new Set(started);
				return probe.attempts.push(threadId) === 1;
			},
		},
	});
	const crashOnce = async (): Promise<number | undefined> => {
		const crashing = workerLoop({ count: 1, pool, random: () => 0 }, 'crash.mjs');
		const completed = vi.fn();
		crashing.on('iterationCompleted', completed);
		try {
			await crashing.start('exit-first');
		} finally {
			process.off('worker', onWorker);
		}
		return (completed.mock.calls[0]?.[0].result as { threadId: number } | undefined)?.threadId;
	};
	return { pool, probe, crashOnce };
}

describe('worker loop: the worker dies', () => {
	test('process.exit() in the body is a WorkerCrashedError with the exit code, retried on a fresh worker', async () => {
		const threads: number[] = [];
		const pool = testPool({ services: { firstAttempt: (threadId: number) => threads.push(threadId) === 1 } });
		const crashing = workerLoop({ count: 1, pool }, 'crash.mjs');
		const failed = vi.fn();
		const reconnecting = vi.fn();
		const completed = vi.fn();
		crashing.on('iterationFailed', failed).on('reconnecting', reconnecting).on('iterationCompleted', completed);

		await crashing.start('exit-first');

		const error = failed.mock.calls[0]?.[0].error as WorkerCrashedError;
		expect(failed).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ iteration: 0, willRetry: true }));
		expect(error).toBeInstanceOf(WorkerCrashedError);
		expect(error).toMatchObject({ code: ErrorCode.WorkerCrashed, reason: 'exited with code 3', exitCode: 3 });
		expect(reconnecting).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ iteration: 0, error }));
		expect(threads).toHaveLength(2);
		expect(threads[1]).not.toBe(threads[0]);
		expect(completed).toHaveBeenCalledExactlyOnceWith(
			expect.objectContaining({ iteration: 0, result: { threadId: threads[1] } }),
		);
	});

	test('with reconnect: false the crash reaches the error hook and ends the run', async () => {
		const onError = vi.fn();
		const crashing = workerLoop({ count: 1, pool: testPool(), reconnect: false, onError }, 'crash.mjs');
		const stopped = vi.fn();
		crashing.on('loopStopped', stopped);

		const error = await crashing.start('exit').catch((reason: unknown) => reason);

		expect(error).toBeInstanceOf(WorkerCrashedError);
		expect(error).toMatchObject({ exitCode: 3 });
		expect(onError).toHaveBeenCalledExactlyOnceWith(error, crashing);
		expect(stopped).toHaveBeenCalledExactlyOnceWith({ reason: 'failed', error });
	});

	test('an uncaught error outside the body is a WorkerCrashedError carrying that error', async () => {
		const onError = vi.fn();
		const crashing = workerLoop({ count: 1, pool: testPool(), reconnect: false, onError }, 'crash.mjs');

		const error = await crashing.start('late').catch((reason: unknown) => reason);

		expect(error).toBeInstanceOf(WorkerCrashedError);
		expect(error).toMatchObject({ code: ErrorCode.WorkerCrashed, reason: 'uncaught error', exitCode: undefined });
		expect((error as Error).cause).toMatchObject({ message: 'late' });
		expect(onError).toHaveBeenCalledOnce();
	});

	test('a pool stays usable after one of its workers crashed', async () => {
		const pool = testPool();
		const crashing = workerLoop({ count: 1, pool, reconnect: false, onError: () => {} }, 'crash.mjs');
		await crashing.start('exit').catch(() => {});
		const healthy = workerLoop({ count: 1, pool }, 'where.mjs');
		const completed = vi.fn();
		healthy.on('iterationCompleted', completed);

		await healthy.start();

		expect(completed).toHaveBeenCalledWith(expect.objectContaining({ result: expect.any(Number) }));
	});

	test('running out of memory in a dedicated worker is a WorkerCrashedError with ERR_WORKER_OUT_OF_MEMORY', async () => {
		const onError = vi.fn();
		const hungry = workerLoop(
			{
				count: 1,
				isolation: 'dedicated',
				resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
				reconnect: false,
				onError,
			},
			'crash.mjs',
		);

		const error = await hungry.start('oom').catch((reason: unknown) => reason);

		expect(error).toBeInstanceOf(WorkerCrashedError);
		expect(error).toMatchObject({ code: ErrorCode.WorkerOutOfMemory, reason: 'ran out of memory' });
		expect((error as Error).cause).toMatchObject({ code: 'ERR_WORKER_OUT_OF_MEMORY' });
		expect(onError).toHaveBeenCalledExactlyOnceWith(error, hungry);
	});

	test('a pool that keeps workers retries a crashed iteration at once on its spare, started before the crash', async () => {
		const { probe, crashOnce } = spareProbe({ minThreads: 1 });

		const threadId = await crashOnce();

		expect(probe.attempts).toEqual([probe.attempts[0], threadId]);
		expect(threadId).not.toBe(probe.attempts[0]);
		expect(probe.beforeCrash.has(threadId ?? -1)).toBe(true);
	});

	test('a pool busy with all its threads still keeps a spare: a crashed iteration is retried on a worker started before the crash', async () => {
		const { pool, probe, crashOnce } = spareProbe({ threads: 2, minThreads: 1 });
		// One place taken by a body that runs until its loop is cancelled, the other by the body that crashes.
		const busy = workerLoop({ count: 1, pool }, 'spin.mjs');
		const busyStarted = new Promise<void>((resolve) => busy.on('iterationStarted', () => resolve()));
		const busyRun = busy.start('cooperative').catch(() => {});
		await busyStarted;

		let threadId: number | undefined;
		try {
			threadId = await crashOnce();
		} finally {
			busy.cancel();
			await busyRun;
		}

		expect(probe.attempts).toEqual([probe.attempts[0], threadId]);
		expect(probe.beforeCrash.has(threadId ?? -1)).toBe(true);
	});

	test('the retry after a crash runs on a replacement that started, and imported the task, before the retry was due', async () => {
		let attempts = 0;
		const pool = testPool({ services: { firstAttempt: () => ++attempts === 1 } });
		// A backoff of ~400 ms: the replacement has time to start before the retry is due.
		const crashing = workerLoop({ count: 1, pool, random: () => 0.2 }, 'warm.mjs');
		let retryStartedAt = 0;
		crashing.on('iterationStarted', ({ retry }) => {
			if (retry) retryStartedAt = Date.now();
		});
		const completed = vi.fn();
		crashing.on('iterationCompleted', completed);

		await crashing.start();

		const result = completed.mock.calls[0]?.[0].result as { loadedAt: number };
		expect(attempts).toBe(2);
		expect(retryStartedAt).toBeGreaterThan(0);
		// Cold, the module would load after the retry was handed to the worker.
		expect(result.loadedAt).toBeLessThan(retryStartedAt);
	});
});
