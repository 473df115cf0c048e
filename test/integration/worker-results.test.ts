import { ErrorCode, RemoteError, TaskError } from 'discord-tasks';
import { describe, expect, test, vi } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

const { testPool, workerLoop } = useWorkerLoops();

/** A main-side class with the same name as the fixture's: matched by name, as the class cannot cross. */
class QuotaError extends Error {}

/** Runs `throws.mjs` once with `kind` and returns the error the run ended with. */
async function failureOf(kind: string): Promise<unknown> {
	const onError = vi.fn();
	const failing = workerLoop({ count: 1, pool: testPool(), onError }, 'throws.mjs');
	const failed = vi.fn();
	failing.on('iterationFailed', failed);
	const error: unknown = await failing.start(kind).then(
		() => expect.unreachable('the run should fail'),
		(reason: unknown) => reason,
	);
	expect(onError).toHaveBeenCalledExactlyOnceWith(error, failing);
	expect(failed).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ iteration: 0, error, willRetry: false }));
	return error;
}

describe('worker loop: a body that returns', () => {
	test('delivers each result with the iteration, the loop name and the start() arguments', async () => {
		const echo = workerLoop({ count: 2, name: 'echoer', pool: testPool() }, 'echo.mjs');
		const completed = vi.fn();
		const stopped = vi.fn();
		echo.on('iterationCompleted', completed).on('loopStopped', stopped);
		const when = new Date('2026-01-05T00:00:00Z');

		await echo.start('guild', 2, { when, tags: new Set(['a']) });

		const args = ['guild', 2, { when, tags: new Set(['a']) }];
		expect(completed.mock.calls.map(([info]) => info)).toEqual([
			expect.objectContaining({ iteration: 0, result: { args, iteration: 0, loopName: 'echoer' } }),
			expect.objectContaining({ iteration: 1, result: { args, iteration: 1, loopName: 'echoer' } }),
		]);
		expect(stopped).toHaveBeenCalledExactlyOnceWith({ reason: 'completed' });
		expect(echo.failed()).toBe(false);
	});

	test('names the loop after the task file by default', async () => {
		const echo = workerLoop({ count: 1, pool: testPool() }, 'echo.mjs');
		const completed = vi.fn();
		echo.on('iterationCompleted', completed);

		await echo.start();

		expect(echo.name).toBe('echo');
		expect(completed).toHaveBeenCalledWith(
			expect.objectContaining({ result: { args: [], iteration: 0, loopName: 'echo' } }),
		);
	});
});

describe('worker loop: a body that throws', () => {
	test('an Error reaches the error hook as a TaskError with the rebuilt Error as cause, and ends the run', async () => {
		const error = await failureOf('error');

		expect(error).toBeInstanceOf(TaskError);
		expect(error).toMatchObject({ code: ErrorCode.TaskFailed, loopName: 'throws', iteration: 0 });
		const cause = (error as TaskError).cause;
		expect(cause).toBeInstanceOf(Error);
		expect(cause).not.toBeInstanceOf(RemoteError);
		expect(cause).toMatchObject({ name: 'Error', message: 'plain failure' });
		// The stack is the worker's, pointing into the task module.
		expect((cause as Error).stack).toContain('throws.mjs');
	});

	test('a built-in error subclass keeps its class', async () => {
		const error = await failureOf('type');

		expect((error as TaskError).cause).toBeInstanceOf(TypeError);
		expect((error as TaskError).cause).toMatchObject({ message: 'not a number' });
	});

	test('a custom error class comes back as a RemoteError with its name, code, fields, class chain and causes', async () => {
		const error = await failureOf('quota');

		expect(error).toBeInstanceOf(TaskError);
		expect((error as Error).message).toContain('QuotaError: quota exceeded');
		const cause = (error as TaskError).cause as RemoteError & Record<string, unknown>;
		expect(cause).toBeInstanceOf(RemoteError);
		expect(cause).toBeInstanceOf(Error);
		expect(cause.name).toBe('QuotaError');
		expect(cause.message).toBe('quota exceeded');
		expect(cause.code).toBe('E_QUOTA');
		expect(cause.classChain).toEqual(['QuotaError', 'ServiceError', 'Error']);
		expect(cause['remaining']).toBe(0);
		expect(cause['resetAt']).toEqual(new Date('2026-01-05T00:00:00Z'));
		expect(cause['buckets']).toEqual(['a', 'b']);
		expect(cause.stack).toContain('throws.mjs');
		const upstream = cause.cause as Error;
		expect(upstream).toBeInstanceOf(Error);
		expect(upstream.message).toBe('429 from upstream');
		expect(upstream.cause).toBe('raw body');
	});

	test('a thrown string comes back as the cause itself', async () => {
		const error = await failureOf('string');

		expect(error).toBeInstanceOf(TaskError);
		expect((error as TaskError).cause).toBe('x');
		expect((error as Error).message).toContain('a thrown string (x)');
	});

	test('a thrown null comes back as the cause itself', async () => {
		const error = await failureOf('null');

		expect(error).toBeInstanceOf(TaskError);
		expect(Object.hasOwn(error as object, 'cause')).toBe(true);
		expect((error as TaskError).cause).toBeNull();
	});

	test('a class added on the main side with addExceptionType() is retried by name, and the retry succeeds', async () => {
		const onError = vi.fn();
		const quota = workerLoop({ count: 1, pool: testPool(), onError }, 'throws.mjs').addExceptionType(QuotaError);
		const failed = vi.fn();
		const reconnecting = vi.fn();
		const completed = vi.fn();
		quota.on('iterationFailed', failed).on('reconnecting', reconnecting).on('iterationCompleted', completed);

		await quota.start('quota-once');

		expect(failed).toHaveBeenCalledExactlyOnceWith(
			expect.objectContaining({ iteration: 0, willRetry: true, error: expect.any(TaskError) }),
		);
		const retried = reconnecting.mock.calls[0]?.[0] as { error: TaskError; delayMs: number };
		expect(reconnecting).toHaveBeenCalledOnce();
		expect(retried.error.cause).toMatchObject({ name: 'QuotaError', code: 'E_QUOTA' });
		expect(retried.delayMs).toBeLessThan(100);
		// Same worker (module state kept): the second attempt is the second call of the body.
		expect(completed).toHaveBeenCalledExactlyOnceWith(
			expect.objectContaining({ iteration: 0, result: { attempts: 2 } }),
		);
		expect(onError).not.toHaveBeenCalled();
	});

	test('the same class is not retried without addExceptionType()', async () => {
		const error = await failureOf('quota-once');

		expect((error as TaskError).cause).toMatchObject({ name: 'QuotaError' });
	});
});
