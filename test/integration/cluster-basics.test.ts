import { setTimeout as sleep } from 'node:timers/promises';
import { LoopController } from 'discord-tasks';
import { bullmqBackend } from 'discord-tasks/bullmq';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
	redis = await startRedis();
});
afterAll(async () => {
	await redis?.stop();
});

let prefixes = 0;
function cluster(size: number, options: { prefix?: string } = {}) {
	const prefix = options.prefix ?? `t${++prefixes}`;
	const controllers = Array.from(
		{ length: size },
		(_, index) =>
			new LoopController({
				backend: bullmqBackend({
					connection: redis.url,
					prefix,
					processId: `p${index}`,
					lockDurationMs: 1000,
					stalledIntervalMs: 500,
					watchdogMs: 300,
				}),
			}),
	);
	return { controllers, prefix, close: () => Promise.all(controllers.map((c) => c.close({ timeoutMs: 2000 }))) };
}

test('three processes declaring one loop: every tick runs once, in order, no overlap', async () => {
	const { controllers, close } = cluster(3);
	const runs: { process: number; iteration: number; args: unknown[] }[] = [];
	let active = 0;
	let overlap = 0;
	controllers.forEach((tasks, index) => {
		tasks.loop({ name: 'beat', seconds: 0.1, count: 12 }, async (...args: unknown[]) => {
			active++;
			if (active > 1) overlap++;
			runs.push({ process: index, iteration: tasks.get('beat')?.currentLoop ?? -1, args });
			await sleep(20);
			active--;
		});
	});
	await Promise.all(controllers.map((tasks) => tasks.connect()));
	const done = controllers.map((tasks) => tasks.start('beat', 'channel', 3));
	await Promise.all(done);
	expect(runs).toHaveLength(12);
	expect(runs.map((run) => run.iteration)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
	expect(runs.every((run) => JSON.stringify(run.args) === '["channel",3]')).toBe(true);
	expect(overlap).toBe(0);
	for (const tasks of controllers) expect(tasks.get('beat')?.isRunning()).toBe(false);
	await close();
});
