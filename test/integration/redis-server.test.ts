import { fork } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ErrorCode, InvalidOptionError } from 'discord-tasks';
import { type RedisServer, startRedisServer } from 'discord-tasks/testing';
import { afterEach, expect, test } from 'vitest';

// startRedisServer (discord-tasks/testing) with a real redis-server: what the cluster tests, the benchmark and the
// cluster example stand on.

const started: RedisServer[] = [];
afterEach(async () => {
	for (const server of started.splice(0)) await server.stop();
});

const alive = (pid: number) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};

async function until(check: () => boolean, withinMs: number): Promise<void> {
	const deadline = Date.now() + withinMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms`);
		await sleep(20);
	}
}

test('starts on a free port of 127.0.0.1, answers commands, and stop() ends it', async () => {
	const redis = await startRedisServer();
	started.push(redis);
	expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
	expect(await redis.command('PING')).toBe('+PONG\r\n');
	// The settings the cluster backend needs.
	expect(await redis.command('CONFIG', 'GET', 'maxmemory-policy')).toContain('noeviction');
	expect(await redis.command('CONFIG', 'GET', 'hz')).toContain('100');
	expect(await redis.command('CONFIG', 'GET', 'save')).toMatch(/save\r\n\$0\r\n/);

	const { pid } = redis;
	await redis.stop();
	expect(alive(pid)).toBe(false);
	await redis.stop(); // idempotent
});

test('args are passed to redis-server after the defaults', async () => {
	const redis = await startRedisServer({ args: ['--requirepass', 'secret'] });
	started.push(redis);
	expect(await redis.command('PING')).toMatch(/^-NOAUTH/);
	expect(await redis.command('AUTH', 'secret')).toBe('+OK\r\n');
});

test('restart() is a crash and a start on the same port: an empty Redis under a new pid', async () => {
	const redis = await startRedisServer();
	started.push(redis);
	await redis.command('SET', 'kept', '1');
	const { pid, port } = redis;

	await redis.restart();

	expect(alive(pid)).toBe(false);
	expect(redis.pid).not.toBe(pid);
	expect(redis.port).toBe(port);
	expect(await redis.command('EXISTS', 'kept')).toBe(':0\r\n');
});

test('pause() freezes the server: a command sent meanwhile gets no answer, and one sent after it does', async () => {
	const redis = await startRedisServer();
	started.push(redis);
	// Frozen for longer than command()'s own 1 s wait for an answer.
	const paused = redis.pause(1500);
	await expect(redis.command('PING')).rejects.toThrow(/did not answer/);
	await paused;
	expect(await redis.command('PING')).toBe('+PONG\r\n');
});

test('the server dies with the process that started it, even when that process is SIGKILLed', async () => {
	const owner = fork(fileURLToPath(new URL('../fixtures/testing/redis-owner.mjs', import.meta.url)), {
		stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
	});
	const { pid } = await new Promise<{ pid: number }>((resolve) => owner.once('message', resolve as never));
	expect(alive(pid)).toBe(true);
	const dir = readlinkSync(`/proc/${pid}/cwd`);
	expect(dir).toMatch(/discord-tasks-redis-/);

	owner.kill('SIGKILL');

	await until(() => !alive(pid) && !existsSync(dir), 3000);
});

test('a redis-server that is not installed is a clear error that says how to install it', async () => {
	const error = await startRedisServer({ executable: '/nonexistent/redis-server' }).catch((caught: Error) => caught);
	expect(error).toBeInstanceOf(Error);
	expect((error as Error).message).toMatch(/not installed or not on the PATH \(apt-get install redis-server\)/);
});

test.each([
	[{ args: '--port 1' }, 'args', /`args` must be an array of strings, got '--port 1' \(string\)/],
	[{ detached: 'yes' }, 'detached', /`detached` must be a boolean/],
	[{ executable: '' }, 'executable', /`executable` must be a non-empty string/],
	[{ startTimeoutMs: 0 }, 'startTimeoutMs', /`startTimeoutMs` must be a positive number of ms, got 0/],
	[{ port: 6379 }, 'port', /port/],
])('bad options are refused before anything starts: %o', async (options, option, message) => {
	const error = await startRedisServer(options as never).catch((caught: unknown) => caught);
	expect(error).toBeInstanceOf(InvalidOptionError);
	expect(error).toMatchObject({ option, code: ErrorCode.InvalidOption });
	expect((error as Error).message).toMatch(message);
});
