import { performance } from 'node:perf_hooks';
import { ErrorCode, type LoopEventMap, RetryableTimeoutError, TaskPool, TaskTimeoutError } from 'discord-tasks';
import { describe, expect, test, vi } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

const { testPool, workerLoop } = useWorkerLoops();

/** The worker thread a pool's (only) worker runs on, by running `where.mjs` once. */
async function threadIdOf(pool: TaskPool): Promise<number> {
	const where = workerLoop({ count: 1, pool }, 'where.mjs');
	const completed = vi.fn();
	where.on('iterationCompleted', completed);
	await where.start();
	return completed.mock.calls[0]?.[0].result as number;
}

describe('worker loop: timeoutMs', () => {
	test('a body that never yields is terminated after timeoutMs + graceMs with a TaskTimeoutError, retried by default', async () => {
		const pool = testPool({ graceMs: 100 });
		const spinning = workerLoop({ name: 'spinner', timeoutMs: 200, pool }, 'spin.mjs');
		const failed = vi.fn((_info: LoopEventMap['iterationFailed'][0]) => spinning.cancel());
		spinning.on('iterationFailed', failed);
		const startedAt = performance.now();

		await spinning.start('forever');

		const elapsedMs = performance.now() - startedAt;
		const info = failed.mock.calls[0]?.[0];
		expect(failed).toHaveBeenCalledOnce();
		expect(info?.error).toBeInstanceOf(TaskTimeoutError);
		expect(info?.error).toMatchObject({
			code: ErrorCode.TaskTimeout,
			loopName: 'spinner',
			iteration: 0,
			timeoutMs: 200,
		});
		expect(info?.error).toBeInstanceOf(RetryableTimeoutError);
		expect(info?.willRetry).toBe(true);
		// The body never looks at its signal: only terminating the worker ends it, after the grace period.
		expect(elapsedMs).toBeGreaterThanOrEqual(290);
		// The pool replaced the terminated worker.
		await expect(threadIdOf(pool)).resolves.toEqual(expect.any(Number));
	});

	test('a body that listens to ctx.signal sees a TimeoutError and stops by itself, keeping its worker', async () => {
		const pool = testPool({ graceMs: 10_000 });
		const before = await threadIdOf(pool);
		const onError = vi.fn();
		const cooperative = workerLoop({ count: 1, timeoutMs: 200, pool, reconnect: false, onError }, 'spin.mjs');
		const startedAt = performance.now();

		const error = await cooperative.start('cooperative').catch((reason: unknown) => reason);

		expect(performance.now() - startedAt).toBeLessThan(10_000);
		expect(error).toBeInstanceOf(TaskTimeoutError);
		expect(error).toMatchObject({ loopName: 'spin', iteration: 0, timeoutMs: 200 });
		// What the body threw: its signal's reason.
		expect((error as Error).cause).toMatchObject({ name: 'TimeoutError' });
		expect(onError).toHaveBeenCalledExactlyOnceWith(error, cooperative);
		await expect(threadIdOf(pool)).resolves.toBe(before);
	});

	test('an iteration of another loop queued behind the timed-out body runs once the worker is replaced', async () => {
		const pool = testPool({ graceMs: 100 });
		const spinning = workerLoop({ count: 1, timeoutMs: 200, pool, reconnect: false, onError: () => {} }, 'spin.mjs');
		const started = new Promise((resolve) => spinning.on('iterationStarted', resolve));
		const spinningRun = spinning.start('forever');
		await started;
		// The pool's only worker is busy: this iteration waits in piscina's queue until that worker is terminated.
		const queued = threadIdOf(pool);

		await expect(spinningRun).rejects.toBeInstanceOf(TaskTimeoutError);
		await expect(queued).resolves.toEqual(expect.any(Number));
	});
});

describe('worker loop: cancel() and stop()', () => {
	test('cancel() during a CPU-bound body ends the run at once, runs afterLoop as cancelled and frees the worker', async () => {
		const pool = testPool({ graceMs: 100 });
		const cancelledInAfterLoop: boolean[] = [];
		const spinning = workerLoop(
			{ pool, afterLoop: () => void cancelledInAfterLoop.push(spinning.isBeingCancelled()) },
			'spin.mjs',
		);
		const stopped = vi.fn();
		const completed = vi.fn();
		spinning.on('loopStopped', stopped).on('iterationCompleted', completed);
		spinning.on('iterationStarted', () => {
			setTimeout(() => spinning.cancel(), 100);
		});

		await expect(spinning.start('forever')).resolves.toBeUndefined();

		expect(stopped).toHaveBeenCalledExactlyOnceWith({ reason: 'cancelled' });
		expect(cancelledInAfterLoop).toEqual([true]);
		expect(completed).not.toHaveBeenCalled();
		expect(spinning.isRunning()).toBe(false);
		// The pool's only worker was spinning forever: another task can run only because it was terminated.
		await expect(threadIdOf(pool)).resolves.toEqual(expect.any(Number));
	});

	test('stop() during a body lets it finish and deliver its result, then ends the run', async () => {
		const pool = testPool();
		const burning = workerLoop({ pool }, 'spin.mjs');
		const started = vi.fn();
		const completed = vi.fn();
		const stopped = vi.fn();
		burning.on('iterationCompleted', completed).on('loopStopped', stopped);
		burning.on('iterationStarted', (info) => {
			started(info);
			setTimeout(() => burning.stop(), 50);
		});

		await burning.start('burn', 300);

		expect(started).toHaveBeenCalledOnce();
		expect(completed).toHaveBeenCalledExactlyOnceWith(
			expect.objectContaining({ iteration: 0, result: { threadId: expect.any(Number) } }),
		);
		expect(stopped).toHaveBeenCalledExactlyOnceWith({ reason: 'stopped' });
	});
});

describe('TaskPool limits and shutdown', () => {
	test('maxQueue: past threads + maxQueue iterations, a loop gets PoolQueueFullError and retries it', async () => {
		const pool = testPool({ maxQueue: 0 });
		const busy = workerLoop({ count: 1, pool }, 'spin.mjs');
		const crowded = workerLoop({ count: 1, pool }, 'spin.mjs');
		const failures: unknown[] = [];
		crowded.on('iterationFailed', ({ error, willRetry }) => failures.push({ error, willRetry }));
		const busyRun = busy.start('burn', 300);
		await new Promise((resolve) => setTimeout(resolve, 50));
		await crowded.start('burn', 1);
		await busyRun;
		expect(failures.length).toBeGreaterThanOrEqual(1);
		expect(failures[0]).toMatchObject({
			error: { name: 'PoolQueueFullError', code: ErrorCode.PoolQueueFull },
			willRetry: true,
		});
	});

	test('close() returns promptly after a cancelled body that never yields is terminated', async () => {
		const pool = new TaskPool({ threads: 1, graceMs: 100 });
		const spinning = workerLoop({ pool }, 'spin.mjs');
		const run = spinning.start('forever');
		await new Promise((resolve) => setTimeout(resolve, 200));
		spinning.cancel();
		const started = performance.now();
		await Promise.all([run, pool.close()]);
		expect(performance.now() - started).toBeLessThan(5000);
		expect(pool.closed).toBe(true);
	});
});
