import { ErrorCode, InvalidOptionError, loop, TaskError, TaskModuleError, TaskResultError } from 'discord-tasks';
import { describe, expect, test, vi } from 'vitest';
import { fixture, useWorkerLoops } from '../helpers/worker-loops.js';

const { testPool, workerLoop } = useWorkerLoops();

describe('loop() with a task module', () => {
	test('refuses a module that does not exist with a TaskModuleError ERR_TASK_MODULE_NOT_FOUND', () => {
		const missing = fixture('does-not-exist.mjs');
		const create = () => loop({ seconds: 1, pool: testPool() }, missing);

		expect(create).toThrow(TaskModuleError);
		expect(create).toThrow(expect.objectContaining({ code: ErrorCode.TaskModuleNotFound, moduleUrl: missing.href }));
	});

	test('reports a module without a defineTask() default export at the first iteration, without retrying', async () => {
		const onError = vi.fn();
		const invalid = workerLoop({ count: 1, pool: testPool(), onError }, 'not-a-task.mjs');
		const failed = vi.fn();
		invalid.on('iterationFailed', failed);

		const error = await invalid.start().catch((reason: unknown) => reason);

		expect(error).toBeInstanceOf(TaskModuleError);
		expect(error).not.toBeInstanceOf(TaskError);
		expect(error).toMatchObject({ code: ErrorCode.TaskModuleInvalid, moduleUrl: fixture('not-a-task.mjs').href });
		expect((error as Error).message).toContain('defineTask()');
		expect(failed).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ iteration: 0, error, willRetry: false }));
		expect(onError).toHaveBeenCalledExactlyOnceWith(error, invalid);
	});

	test('a result that cannot cross to the main thread fails the iteration with a TaskResultError, not retried', async () => {
		const failed = vi.fn();
		const returning = workerLoop({ count: 1, pool: testPool(), onError: () => {} }, 'bad-result.mjs');
		returning.on('iterationFailed', failed);

		const error = await returning.start().catch((reason: unknown) => reason);

		expect(error).toBeInstanceOf(TaskResultError);
		expect(error).toMatchObject({ code: ErrorCode.TaskResultInvalid, loopName: returning.name, iteration: 0 });
		expect((error as Error).message).toContain('an instance of Report');
		expect(failed).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ willRetry: false }));
	});
});

describe('Loop#start of a worker loop', () => {
	test('refuses a function argument synchronously with ERR_INVALID_ARGUMENT', () => {
		const echo = workerLoop({ count: 1, pool: testPool() }, 'echo.mjs');

		const start = () => echo.start('fine', () => {});

		expect(start).toThrow(InvalidOptionError);
		expect(start).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument, option: 'args[1]' }));
		expect(echo.isRunning()).toBe(false);
	});

	test('refuses a class instance, naming its class', () => {
		const echo = workerLoop({ count: 1, pool: testPool() }, 'echo.mjs');
		class Foo {
			x = 1;
		}

		const start = () => echo.start({ nested: new Foo() });

		expect(start).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument, option: 'args[0]' }));
		expect(start).toThrow('args[0].nested is an instance of Foo');
	});

	test('accepts a Map, which crosses intact', async () => {
		const echo = workerLoop({ count: 1, pool: testPool() }, 'echo.mjs');
		const completed = vi.fn();
		echo.on('iterationCompleted', completed);

		await echo.start(new Map([['a', 1]]));

		expect(completed).toHaveBeenCalledWith(
			expect.objectContaining({ result: expect.objectContaining({ args: [new Map([['a', 1]])] }) }),
		);
	});
});
