import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BackendError, ErrorCode, LoopController } from 'discord-tasks';
import { bullmqBackend } from 'discord-tasks/bullmq';
import { afterAll, expect, test } from 'vitest';
import { until, useCluster } from '../helpers/cluster.js';
import { startRedis } from '../helpers/redis-server.js';

// Bad configuration gets an error that says what to do, at start-up; Redis going away pauses the loops without
// crashing the bot; worker bodies keep their hard cancel in a cluster.

const { cluster, redis } = useCluster();
const extra: { stop(): Promise<void> }[] = [];
afterAll(async () => {
	await Promise.all(extra.map((server) => server.stop()));
});

const controllerOn = (connection: string, prefix = 'cfg', connectTimeoutMs = 2000) =>
	new LoopController({ backend: bullmqBackend({ connection, prefix, connectTimeoutMs }) });

test('no Redis at the URL: connect() rejects with ERR_BACKEND_UNAVAILABLE naming the address, no hang', async () => {
	const port = await new Promise<number>((resolve) => {
		const server = createServer().listen(0, '127.0.0.1', () => {
			const { port: free } = server.address() as { port: number };
			server.close(() => resolve(free));
		});
	});
	const tasks = controllerOn(`redis://127.0.0.1:${port}`);
	const error = await tasks.connect().catch((e: unknown) => e);
	expect(error).toBeInstanceOf(BackendError);
	expect(error).toMatchObject({ code: ErrorCode.BackendUnavailable });
	expect((error as Error).message).toContain(`Cannot reach Redis at redis://127.0.0.1:${port}`);
	expect((error as Error).message).toContain('start redis-server');
	await tasks.close();
});

test('a wrong password: ERR_BACKEND_MISCONFIGURED that says to check it, and the password is not in the message', async () => {
	const guarded = await startRedis({ args: ['--requirepass', 'right-password'] });
	extra.push(guarded);
	const tasks = controllerOn(`redis://:wrong-password@127.0.0.1:${guarded.port}`);
	const error = (await tasks.connect().catch((e: unknown) => e)) as BackendError;
	expect(error).toMatchObject({ code: ErrorCode.BackendMisconfigured });
	expect(error.message).toMatch(/refused the credentials .*check the password/);
	expect(error.message).not.toContain('wrong-password');
	await tasks.close();
	const right = controllerOn(`redis://:right-password@127.0.0.1:${guarded.port}`);
	await expect(right.connect()).resolves.toBeUndefined();
	await right.close();
});

test('a Redis that evicts keys is refused with the setting to change', async () => {
	const evicting = await startRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] });
	extra.push(evicting);
	const tasks = controllerOn(evicting.url);
	const error = (await tasks.connect().catch((e: unknown) => e)) as BackendError;
	expect(error).toMatchObject({ code: ErrorCode.BackendMisconfigured });
	expect(error.message).toContain('maxmemory-policy allkeys-lru');
	expect(error.message).toContain('noeviction');
	await tasks.close();
});

test('BullMQ 5 data under the prefix is refused: choose another prefix', async () => {
	await redis().command('HSET', 'old:loops:meta', 'version', 'bullmq:5.70.1');
	const tasks = controllerOn(redis().url, 'old');
	const error = (await tasks.connect().catch((e: unknown) => e)) as BackendError;
	expect(error).toMatchObject({ code: ErrorCode.BackendMisconfigured });
	expect(error.message).toContain('BullMQ 5.70.1');
	await tasks.close();
});

test('the start() promise reports the backend error too, for a bot that never called connect()', async () => {
	const tasks = controllerOn('redis://127.0.0.1:1', 'nowhere', 500);
	tasks.loop({ name: 'orphan', seconds: 1 }, () => {});
	await expect(tasks.start('orphan')).rejects.toMatchObject({ code: ErrorCode.BackendUnavailable });
	await tasks.close();
});

test('bullmqBackend() options are checked with the option and the value', () => {
	expect(() => bullmqBackend({ connection: 'http://x' })).toThrow(
		/`connection` must be a redis:\/\/ or rediss:\/\/ URL/,
	);
	expect(() => bullmqBackend({ connection: 'redis://x', prefix: 'a b' })).toThrow(/`prefix` must be 1 to 100/);
	expect(() => bullmqBackend({ connection: 'redis://x', lockDurationMs: 5 })).toThrow(/lockDurationMs/);
	expect(() => bullmqBackend({ connection: 'redis://x', colour: 1 } as never)).toThrow(
		/Unknown bullmqBackend\(\) option `colour`/,
	);
	expect(() => new LoopController({ backend: {} as never })).toThrow(/`backend` must be made by bullmqBackend\(\)/);
});

test('Redis unreachable mid-run: the loop pauses, nothing crashes, and it goes on without a burst (missedIterations: skip)', async () => {
	const frozen = await startRedis();
	extra.push(frozen);
	const warnings: string[] = [];
	const tasks = new LoopController({
		backend: bullmqBackend({
			connection: frozen.url,
			prefix: 'rs',
			lockDurationMs: 1000,
			stalledIntervalMs: 500,
			watchdogMs: 300,
		}),
		logger: { warn: (message: string) => void warnings.push(message), error() {} },
	});
	const targets: number[] = [];
	const created = tasks.loop({ name: 'steady', seconds: 0.1 }, () => {});
	created.on('iterationStarted', ({ target }) => targets.push(target?.getTime() ?? 0));
	await tasks.connect();
	void tasks.start('steady').catch(() => {});
	await until(() => targets.length >= 3);
	await frozen.pause(1500);
	const resumedFrom = targets.length;
	await until(() => targets.length >= resumedFrom + 5, 10_000, 'ticks after Redis came back');
	const after = targets.slice(resumedFrom);
	// The ticks missed while Redis was away are skipped (one late tick, then the grid), not replayed in a burst.
	for (let i = 1; i < after.length; i++)
		expect((after[i] as number) - (after[i - 1] as number)).toBeGreaterThanOrEqual(100);
	expect(created.isRunning()).toBe(true);
	created.cancel();
	await tasks.close();
});

test('Redis restarts (with its data on disk): the loop pauses, then goes on from where it was', async () => {
	const durable = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
	extra.push(durable);
	const tasks = new LoopController({
		backend: bullmqBackend({
			connection: durable.url,
			prefix: 'aof',
			lockDurationMs: 1000,
			stalledIntervalMs: 500,
			watchdogMs: 300,
		}),
		logger: { warn() {}, error() {} },
	});
	const iterations: number[] = [];
	const created = tasks.loop({ name: 'durable', seconds: 0.1 }, () => void iterations.push(created.currentLoop));
	await tasks.connect();
	void tasks.start('durable').catch(() => {});
	await until(() => iterations.length >= 3);
	await durable.restart();
	const before = iterations.length;
	await until(() => iterations.length >= before + 3, 15_000, 'ticks after the restart');
	// The run went on (its iteration count kept), not a new run from 0.
	expect(iterations.at(-1)).toBeGreaterThan(before - 1);
	expect(created.isRunning()).toBe(true);
	created.cancel();
	await until(() => !created.isRunning());
	await tasks.close();
});

const SPIN = fileURLToPath(new URL('../fixtures/spin.mjs', import.meta.url));

test('A18 a worker body stuck in a CPU loop is terminated by cancel() from another process', async () => {
	const { controllers } = cluster(2, { controller: { pool: { threads: 1, graceMs: 100 } } });
	const loops = controllers.map((tasks) => tasks.loop({ name: 'spinner', seconds: 0.05 }, SPIN));
	const crashed: unknown[] = [];
	for (const created of loops) created.on('iterationFailed', ({ error }) => crashed.push(error));
	const run = controllers[0]?.start('spinner', 'forever');
	await until(() => loops.some((created) => created.signal !== undefined), 15_000, 'the body to start');
	const runner = loops.findIndex((created) => created.signal !== undefined);
	await sleep(200);
	loops[1 - runner]?.cancel();
	await run;
	await until(() => loops.every((created) => !created.isRunning()), 5000, 'every process to see the run end');
	expect(crashed).toEqual([]);
});
