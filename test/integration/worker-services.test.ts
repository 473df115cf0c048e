import { ErrorCode, InvalidOptionError, ServiceNotFoundError, TaskError, TaskPool } from 'discord-tasks';
import { describe, expect, test, vi } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

const { testPool, workerLoop } = useWorkerLoops();

/** A service's own error class: its name, code and fields must reach the task. */
class LimitError extends Error {
	override readonly name = 'LimitError';
	readonly code = 'E_LIMIT';
	readonly limit = 5;
}

/** Runs `services.mjs` once with `call` and resolves with the iteration's result. */
async function resultOf(pool: TaskPool, call: string): Promise<unknown> {
	const calling = workerLoop({ count: 1, pool, reconnect: false }, 'services.mjs');
	const completed = vi.fn();
	calling.on('iterationCompleted', completed);
	await calling.start(call);
	return completed.mock.calls[0]?.[0].result;
}

describe('TaskPool services', () => {
	test('a task calls a service on the main thread through ctx.host and gets its result', async () => {
		const add = vi.fn(async (a: number, b: number) => a + b);
		const pool = testPool({ services: { add } });

		await expect(resultOf(pool, 'add')).resolves.toBe(3);
		expect(add).toHaveBeenCalledExactlyOnceWith(1, 2);
	});

	test('an error a service throws reaches the task with its name, code and fields', async () => {
		const pool = testPool({
			services: {
				refuse: async () => {
					throw new LimitError('over the limit');
				},
			},
		});

		await expect(resultOf(pool, 'refuse')).resolves.toEqual({
			name: 'LimitError',
			message: 'over the limit',
			code: 'E_LIMIT',
			limit: 5,
			discordAccessError: false,
		});
	});

	test('calling a service the pool does not have is a ServiceNotFoundError ERR_SERVICE_NOT_FOUND inside the task', async () => {
		const pool = testPool({ services: { add: async (a: number, b: number) => a + b } });

		const seen = (await resultOf(pool, 'unknown')) as Record<string, unknown>;

		expect(seen).toMatchObject({
			name: 'ServiceNotFoundError',
			code: ErrorCode.ServiceNotFound,
			discordAccessError: false,
		});
		expect(seen['message']).toContain("no service 'missing'");
		expect(seen['message']).toContain('services: add');
	});

	test('the same error left uncaught reaches the loop as a TaskError whose cause is a ServiceNotFoundError', async () => {
		const onError = vi.fn();
		const calling = workerLoop({ count: 1, pool: testPool(), onError }, 'services.mjs');

		const error = await calling.start('unknown-uncaught').catch((reason: unknown) => reason);

		expect(error).toBeInstanceOf(TaskError);
		expect((error as TaskError).cause).toBeInstanceOf(ServiceNotFoundError);
		expect((error as TaskError).cause).toMatchObject({ code: ErrorCode.ServiceNotFound });
		expect(onError).toHaveBeenCalledExactlyOnceWith(error, calling);
	});

	test('a service that is not a function is refused when the pool is created, naming it', () => {
		// @ts-expect-error services must be functions
		const create = () => new TaskPool({ services: { x: 1 } });

		expect(create).toThrow(InvalidOptionError);
		expect(create).toThrow(expect.objectContaining({ option: 'services.x', code: ErrorCode.InvalidOption }));
		expect(create).toThrow('`services.x` must be a function, got 1 (number)');
	});
});
