import { setTimeout as sleep } from 'node:timers/promises';
import { type ControllerLoopOptions, ErrorCode, type Loop, type LoopOptions } from 'discord-tasks';
import { expect, test } from 'vitest';
import { until, useCluster } from '../helpers/cluster.js';

// The Loop API across a cluster: "processes" are controllers with their own Redis connections and process ids,
// on one real redis-server. Multi-process behaviour (a process killed mid-tick) is in cluster-processes.test.ts.

const { cluster, redis } = useCluster();

/** Declares the same loop in every controller; records which controller ran each iteration. */
function declare(
	controllers: ReturnType<ReturnType<typeof useCluster>['cluster']>['controllers'],
	options: LoopOptions<Loop<unknown[]>> & ControllerLoopOptions,
	body: (index: number, ...args: unknown[]) => unknown = () => {},
) {
	const runs: { process: number; iteration: number }[] = [];
	const loops = controllers.map((tasks, index) => {
		const created: Loop<unknown[]> = tasks.loop(options, (...args: unknown[]) => {
			runs.push({ process: index, iteration: created.currentLoop });
			return body(index, ...args);
		});
		return created;
	});
	return { runs, loops };
}

test('A11 count across the cluster: exactly `count` iterations, numbered 0..n-1, spread over processes', async () => {
	const { controllers } = cluster(3);
	const { runs, loops } = declare(controllers, { name: 'counted', seconds: 0.05, count: 9 });
	await Promise.all(controllers.map((tasks) => tasks.start('counted')));
	expect(runs.map((run) => run.iteration)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
	for (const created of loops) {
		expect(created.isRunning()).toBe(false);
		expect(created.currentLoop).toBe(0);
	}
});

test('P1 start() from one process is seen by all: isRunning(), loopStarted/loopStopped everywhere', async () => {
	const { controllers } = cluster(2);
	const { loops } = declare(controllers, { name: 'seen', seconds: 0.05 });
	await Promise.all(controllers.map((tasks) => tasks.connect()));
	const events: string[] = [];
	loops.forEach((created, index) => {
		created.on('loopStarted', () => events.push(`started ${index}`));
		created.on('loopStopped', ({ reason }) => events.push(`stopped ${index} ${reason}`));
	});
	const run = controllers[0]?.start('seen');
	await until(() => loops[1]?.isRunning() === true, 5000, 'the other process to see the run');
	expect(() => loops[1]?.start()).toThrow(expect.objectContaining({ code: ErrorCode.LoopAlreadyRunning }));
	loops[1]?.cancel();
	await run;
	await until(() => events.length === 4);
	expect(events.sort()).toEqual(['started 0', 'started 1', 'stopped 0 cancelled', 'stopped 1 cancelled']);
	expect(loops[0]?.isRunning()).toBe(false);
});

test('A17 stop() from another process: the run ends after its next body, afterLoop runs once', async () => {
	const { controllers } = cluster(3);
	let after = 0;
	const { runs, loops } = declare(controllers, { name: 'stopped', seconds: 0.3, afterLoop: () => void after++ });
	const run = controllers[0]?.start('stopped');
	await until(() => runs.length === 1);
	await sleep(50); // sleeping towards the second target
	loops[2]?.stop();
	await until(() => loops[2]?.nextIteration === null, 2000, 'nextIteration to be null after stop()');
	await run;
	expect(runs).toHaveLength(2);
	expect(after).toBe(1);
});

test('A18 cancel() from another process aborts a main-thread body wherever it runs; afterLoop sees isBeingCancelled()', async () => {
	const { controllers } = cluster(2);
	const cancelledSeen: boolean[] = [];
	let afterCalls = 0;
	const loops = controllers.map((tasks) => {
		const created: Loop<[]> = tasks.loop(
			{
				name: 'long',
				seconds: 0.05,
				afterLoop: () => {
					afterCalls++;
					cancelledSeen.push(created.isBeingCancelled());
				},
			},
			async () => {
				await sleep(60_000, undefined, { signal: created.signal });
			},
		);
		return created;
	});
	const run = controllers[0]?.start('long');
	await until(() => loops.some((created) => created.state === 'running'));
	const runner = loops.findIndex((created) => created.signal !== undefined);
	expect(runner).toBeGreaterThanOrEqual(0);
	loops[1 - runner]?.cancel();
	await run;
	expect(afterCalls).toBe(1);
	expect(cancelledSeen).toEqual([true]);
});

test('A19 restart() from any process: a new run with the new arguments after the old one ended', async () => {
	const { controllers } = cluster(2);
	const seen: unknown[] = [];
	const { loops } = declare(controllers, { name: 'again', seconds: 0.05 }, (_index, arg) => void seen.push(arg));
	void controllers[0]?.start('again', 'first');
	await until(() => seen.includes('first'));
	const restarted = loops[1]?.restart('second');
	await until(() => seen.includes('second'));
	expect(loops[0]?.isRunning()).toBe(true);
	loops[0]?.cancel();
	await restarted;
	const firstSecond = seen.indexOf('second');
	expect(seen.slice(firstSecond).every((arg) => arg === 'second')).toBe(true);
	expect(loops[1]?.isRunning()).toBe(false);
});

test('I3 changeInterval() from another process re-arms the sleeping tick, anchored on the last target', async () => {
	const { controllers } = cluster(2);
	const targets: number[] = [];
	const { loops } = declare(controllers, { name: 'rearmed', seconds: 60 });
	for (const created of loops) created.on('iterationStarted', ({ target }) => targets.push(target?.getTime() ?? 0));
	void controllers[0]?.start('rearmed');
	await until(() => targets.length === 1);
	loops[1]?.changeInterval({ seconds: 0.2 });
	await until(() => targets.length === 3, 5000, 'two ticks on the new interval');
	expect((targets[1] as number) - (targets[0] as number)).toBe(200);
	expect((targets[2] as number) - (targets[1] as number)).toBe(200);
	expect(loops[0]?.seconds).toBe(0.2);
	loops[0]?.cancel();
});

test('A12/E: an error the loop does not retry ends the run: the error hook runs once, in the process that saw it; failed() everywhere', async () => {
	const { controllers } = cluster(3);
	const hooked: number[] = [];
	const loops = controllers.map((tasks, index) =>
		tasks.loop({ name: 'broken', seconds: 0.05, onError: () => void hooked.push(index) }, () => {
			throw new TypeError(`broken in ${index}`);
		}),
	);
	const outcomes = await Promise.allSettled(controllers.map((tasks) => tasks.start('broken')));
	expect(hooked).toHaveLength(1);
	for (const outcome of outcomes) {
		expect(outcome.status).toBe('rejected');
		expect((outcome as PromiseRejectedResult).reason).toMatchObject({
			name: 'TypeError',
			message: `broken in ${hooked[0]}`,
		});
	}
	await until(() => loops.every((created) => created.failed()));
});

test('E: a retried failure is retried with backoff in the same tick, before the next one', async () => {
	const { controllers } = cluster(2);
	let attempts = 0;
	const order: string[] = [];
	const loops = controllers.map((tasks) =>
		tasks.loop({ name: 'flaky', seconds: 0.05, count: 3, retryOn: () => true }, () => {
			attempts++;
			if (attempts === 2) throw new Error('transient');
		}),
	);
	for (const created of loops) {
		created.on('iterationStarted', ({ iteration, retry }) => order.push(`${iteration}${retry ? ' retry' : ''}`));
		created.on('reconnecting', ({ delayMs }) => order.push(`backoff ${delayMs >= 0}`));
	}
	await controllers[0]?.start('flaky');
	expect(attempts).toBe(4);
	expect(order).toEqual(['0', '1', 'backoff true', '1 retry', '2']);
	await until(() => controllers[1]?.status()[0]?.cluster?.retries === 1);
	expect(controllers[1]?.status()[0]?.cluster).toMatchObject({ successes: 3, failures: 0, retries: 1 });
});

test('arguments that JSON cannot carry are refused at start() with the path', () => {
	const { controllers } = cluster(1);
	controllers[0]?.loop({ name: 'portable', seconds: 1 }, () => {});
	expect(() => controllers[0]?.start('portable', new Date(0))).toThrow(/args\[0\] is .*Date.*not a plain object/);
	expect(() => controllers[0]?.start('portable', { big: 1n })).toThrow(/args\[0\]\.big is/);
	expect(() => controllers[0]?.start('portable', Number.NaN)).toThrow(/args\[0\] is NaN/);
});

test('a cluster loop needs a key-safe name, and delivery/runOn are checked', () => {
	const { controllers } = cluster(1);
	const tasks = controllers[0];
	expect(() => tasks?.loop({ seconds: 1 }, function unnamed() {})).toThrow(/`name`/);
	expect(() => tasks?.loop({ name: 'a:b', seconds: 1 }, () => {})).toThrow(/name/);
	expect(() => tasks?.loop({ name: 'd', seconds: 1, delivery: 'twice' as never }, () => {})).toThrow(
		/`delivery` must be 'at-most-once' or 'at-least-once', got/,
	);
	expect(() => tasks?.loop({ name: 'g', seconds: 1, runOn: { guildId: '12' } }, () => {})).toThrow(/runOn\.guildId/);
});

test('status() in any process shows the cluster state and which process ran the last iteration', async () => {
	const { controllers } = cluster(2);
	const { runs } = declare(controllers, { name: 'reported', seconds: 0.05, count: 2 });
	await controllers[0]?.start('reported');
	const last = runs.at(-1)?.process;
	await until(
		() => controllers.every((tasks) => tasks.status()[0]?.state === 'idle'),
		5000,
		'every process to see the end',
	);
	for (const tasks of controllers) {
		const [status] = tasks.status();
		expect(status).toMatchObject({ name: 'reported', running: false, state: 'idle' });
		expect(status?.cluster).toMatchObject({ lastIterationBy: `p${last}`, successes: 2, generation: 1 });
	}
});

test('a deploy that changes a definition replaces the schedule: old and new never both fire', async () => {
	const first = cluster(1);
	const ticks: string[] = [];
	first.controllers[0]?.loop({ name: 'deployed', seconds: 30 }, () => void ticks.push('old'));
	void first.controllers[0]?.start('deployed');
	await until(() => ticks.length === 1);
	await first.controllers[0]?.close();
	// The new version of the bot declares the loop with another interval, on the same prefix.
	const second = cluster(1, { prefix: first.prefix });
	second.controllers[0]?.loop({ name: 'deployed', seconds: 0.1 }, () => void ticks.push('new'));
	await second.controllers[0]?.connect();
	await until(() => ticks.length >= 4, 5000, 'ticks on the new schedule');
	expect(ticks[0]).toBe('old');
	expect(ticks.slice(1).every((tick) => tick === 'new')).toBe(true);
	expect(second.controllers[0]?.get('deployed')?.seconds).toBe(0.1);
	second.controllers[0]?.cancel('deployed');
});

test('a loop no process declares any more is removed after staleAfterMs, with its pending tick', async () => {
	const { controllers, prefix } = cluster(1, { backend: { staleAfterMs: 1000 } });
	controllers[0]?.loop({ name: 'forgotten', seconds: 0.2 }, () => {});
	void controllers[0]?.start('forgotten');
	await until(() => controllers[0]?.get('forgotten')?.currentLoop === 1);
	await controllers[0]?.close();
	expect(await redis().command('EXISTS', `${prefix}:loop:forgotten`)).toBe(':1\r\n');
	const survivor = cluster(1, { prefix, backend: { staleAfterMs: 1000 } }).controllers[0];
	survivor?.loop({ name: 'kept', seconds: 10 }, () => {});
	await survivor?.connect();
	let removed = false;
	const deadline = Date.now() + 5000;
	while (!removed && Date.now() < deadline) {
		removed = (await redis().command('EXISTS', `${prefix}:loop:forgotten`)) === ':0\r\n';
		await sleep(50);
	}
	expect(removed).toBe(true);
	expect(await redis().command('ZCARD', `${prefix}:loops:delayed`)).toBe(':0\r\n');
	expect(await redis().command('EXISTS', `${prefix}:loop:kept`)).toBe(':1\r\n');
});

test("runOn: { guildId } runs every tick in the process that holds the guild's shard", async () => {
	const { Client } = await import('discord.js');
	// (175928847303311367 >> 22) % 2 = 1: shard 1 of 2.
	const guildId = '175928847303311367';
	const clients = [0, 1].map((shard) => new Client({ intents: [], shards: [shard], shardCount: 2 }));
	const prefix = `runon${process.pid}`;
	const controllers = clients.map(
		(client, index) =>
			cluster(1, { prefix, controller: { client }, backend: { processId: `shard-${index}` } })
				.controllers[0] as NonNullable<ReturnType<typeof cluster>['controllers'][number]>,
	);
	const { runs } = declare(controllers, { name: 'guild-digest', seconds: 0.05, count: 6, runOn: { guildId } });
	await Promise.all(controllers.map((tasks) => tasks.connect()));
	// As if both shards had logged in: a process takes ticks once its client is ready.
	for (const client of clients) client.emit('clientReady', client as never);
	await Promise.all(controllers.map((tasks) => tasks.start('guild-digest')));
	expect(runs).toHaveLength(6);
	expect(new Set(runs.map((run) => run.process))).toEqual(new Set([1]));
	for (const client of clients) await client.destroy();
});

test('cron and jitterMs across the cluster: one tick per fire time, never before it', async () => {
	const { controllers } = cluster(3);
	const { loops } = declare(controllers, { name: 'every-second', cron: '* * * * * *', count: 3, jitterMs: 50 });
	const starts: { target: number; startedAt: number }[] = [];
	for (const created of loops) {
		created.on('iterationStarted', ({ target }) =>
			starts.push({ target: target?.getTime() ?? 0, startedAt: Date.now() }),
		);
	}
	await Promise.all(controllers.map((tasks) => tasks.start('every-second')));
	expect(starts).toHaveLength(3);
	const targets = starts.map((start) => start.target);
	expect(targets.every((target) => target % 1000 === 0)).toBe(true);
	expect((targets[1] as number) - (targets[0] as number)).toBe(1000);
	expect((targets[2] as number) - (targets[1] as number)).toBe(1000);
	for (const start of starts) expect(start.startedAt).toBeGreaterThanOrEqual(start.target);
});

test('a process whose client is not ready takes no ticks: the ready ones do', async () => {
	const { Client } = await import('discord.js');
	const waiting = new Client({ intents: [] }); // never logs in
	const prefix = `notready${process.pid}`;
	const ready = cluster(1, { prefix, backend: { processId: 'ready' } }).controllers[0];
	const idle = cluster(1, { prefix, controller: { client: waiting }, backend: { processId: 'connecting' } })
		.controllers[0];
	const { runs } = declare([ready, idle] as NonNullable<typeof ready>[], {
		name: 'needs-client',
		seconds: 0.05,
		count: 6,
	});
	await Promise.all([ready?.start('needs-client'), idle?.start('needs-client')]);
	expect(runs).toHaveLength(6);
	expect(runs.every((run) => run.process === 0)).toBe(true);
	await waiting.destroy();
});
