import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLUSTER_SCRIPTS, type ClusterScriptName } from '../../src/main/cluster/cluster-scripts.js';
import { type RedisServer, startRedis } from '../helpers/redis-server.js';

// The state machine's Lua scripts on a real Redis, called as the engine calls them, for the sequences that real
// processes only reach by bad luck: a former owner that comes back after its start-up or wrap-up was taken over.

let redis: RedisServer;
let client: Redis;
beforeAll(async () => {
	redis = await startRedis();
	client = new Redis(redis.url);
	for (const [name, { keys, lua }] of Object.entries(CLUSTER_SCRIPTS)) {
		client.defineCommand(`dt_${name}`, { numberOfKeys: keys, lua });
	}
});
afterAll(async () => {
	await client.quit();
	await redis.stop();
});

let loops = 0;
/** A loop of its own per test: calls its scripts as `ClusterEngine.run` does. */
function loop() {
	const name = `beat${++loops}`;
	const keys = [`t:loop:${name}`, 't:running', 't:declared'];
	return {
		name,
		run: async (script: ClusterScriptName, ...args: (string | number)[]): Promise<unknown[]> => {
			const command = (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[`dt_${script}`];
			const result = await command?.call(
				client,
				...keys.slice(0, CLUSTER_SCRIPTS[script].keys),
				't:control',
				name,
				...args,
			);
			return Array.isArray(result) ? result : [result];
		},
		field: (field: string) => client.hget(keys[0] as string, field),
	};
}

const SCHEDULE = JSON.stringify({ seconds: 1 });

test('a start-up taken over from a dead owner: the former owner, back after all, can neither launch nor finish', async () => {
	const { run, field } = loop();
	await run('declare', 'fingerprint', SCHEDULE, Date.now());
	expect(await run('start', '[]', 'p0', '', 'p0#old')).toEqual([1, 1]);
	// p0#old has no liveness key: another instance adopts the start-up.
	expect(await run('adopt', 1, 'p0#old', 't:alive:', 'p1#new')).toEqual(['starting', 'starting', '']);
	expect(await field('owner')).toBe('p1#new');

	expect(await run('launch', 1, Date.now() + 1000, 'loops', 'p0#old')).toEqual(['stale']);
	expect(await run('finish', 1, 'failed', '{}', 'p0', 'p0#old')).toEqual(['stale']);
	expect(await field('state')).toBe('starting');
	expect((await run('launch', 1, Date.now() + 1000, 'loops', 'p1#new'))[0]).toBe('ok');
	expect(await field('state')).toBe('running');
});

test('a run is finished once: a second finish, by its owner or anyone, is stale', async () => {
	const { run, field } = loop();
	await run('declare', 'fingerprint', SCHEDULE, Date.now());
	await run('start', '[]', 'p0', '', 'p0#a');
	// No first target: the start-up ends the run, and p0#a wraps it up.
	expect(await run('launch', 1, '', 'loops', 'p0#a')).toEqual(['ending']);
	expect(await run('finish', 1, 'completed', '', 'p1', 'p1#b')).toEqual(['stale']);
	expect(await run('finish', 1, 'completed', '', 'p0', 'p0#a')).toEqual(['idle']);
	expect(await run('finish', 1, 'completed', '', 'p0', 'p0#a')).toEqual(['stale']);
	expect(await field('state')).toBe('idle');
});

test('an adoption needs the owner to be gone: a live liveness key, or another owner meanwhile, makes it stale', async () => {
	const { run } = loop();
	await run('declare', 'fingerprint', SCHEDULE, Date.now());
	await run('start', '[]', 'p0', '', 'p0#live');
	await client.set('t:alive:p0#live', '1', 'PX', 10_000);
	expect(await run('adopt', 1, 'p0#live', 't:alive:', 'p1#b')).toEqual(['stale']);
	await client.del('t:alive:p0#live');
	expect((await run('adopt', 1, 'p0#live', 't:alive:', 'p1#b'))[0]).toBe('starting');
	expect(await run('adopt', 1, 'p0#live', 't:alive:', 'p2#c')).toEqual(['stale']);
});

test("the run's end is wrapped up by the process that ended it, whoever began the tick", async () => {
	const { run, field } = loop();
	await run('declare', 'fingerprint', SCHEDULE, Date.now());
	await run('start', '[]', 'p0', '1', 'p0#a');
	const [, job] = (await run('launch', 1, Date.now(), 'loops', 'p0#a')) as [string, string];
	// Taken by p1, then (a stalled lock, at-least-once) by p2; p1's end completes the run (count: 1).
	await run('begin', 1, job, 'p1', Date.now(), '0', Date.now(), 'p1#b');
	await run('begin', 1, job, 'p2', Date.now(), '0', Date.now(), 'p2#c');
	expect(await run('end', 1, job, 'ok', '', 0, '', 'p1#b')).toEqual(['completed', 1]);
	expect(await field('owner')).toBe('p1#b');
});

test('I3 a start-up that computed its first tick on a schedule changed meanwhile is told the new one, nothing written', async () => {
	const { run, field } = loop();
	await run('declare', 'fingerprint', SCHEDULE, Date.now());
	await run('start', '[]', 'p0', '', 'p0#a');
	const changed = JSON.stringify({ cron: '*/5 * * * *' });
	await run('reschedule', 1, '', changed, '');

	expect(await run('launch', 1, Date.now() + 1000, 'loops', 'p0#a', SCHEDULE)).toEqual(['schedule', changed]);
	expect(await field('state')).toBe('starting');
	expect((await run('launch', 1, Date.now() + 1000, 'loops', 'p0#a', changed))[0]).toBe('ok');
});
