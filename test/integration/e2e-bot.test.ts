import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client, Message } from 'discord.js';
import { DiscordAccessError, ErrorCode, LoopController, type LoopControllerOptions, TaskError } from 'discord-tasks';
import { LoopbackGateway } from 'discord-tasks/testing';
import { afterEach, describe, expect, test } from 'vitest';
import { burn } from '../fixtures/e2e/burn.mjs';
import { createClient, loginAndWaitReady, nextEvent, startGateway } from '../helpers/loopback-bot.js';

// End to end: the unmodified discord.js client logged into the loopback gateway, a LoopController from the built
// package, and task bodies in real worker threads.

const fixture = (name: string) => new URL(`../fixtures/e2e/${name}`, import.meta.url);
const quiet = { warn() {}, error() {} };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function bot(options: Omit<LoopControllerOptions, 'client'> = {}, login = true) {
	const gateway = await startGateway(LoopbackGateway, cleanups, { heartbeatIntervalMs: 250 });
	const client = createClient(gateway, cleanups);
	const tasks = new LoopController({ client, pool: { threads: 1, graceMs: 200 }, ...options });
	cleanups.push(() => tasks.close({ timeoutMs: 1000 }));
	if (login) await loginAndWaitReady(client);
	return { gateway, client, tasks };
}

function contents(gateway: LoopbackGateway): string[] {
	return gateway.sentMessages.map((message) => message.content ?? '');
}

describe('a worker loop posting through ctx.discord', () => {
	test('every iteration posts its message exactly once, in order, through the client', async () => {
		const { gateway, tasks } = await bot();
		tasks.loop(
			{ name: 'poster', seconds: 0.05, count: 5, discord: { channels: [gateway.channelId] }, logger: quiet },
			fixture('post-iteration.mjs'),
		);
		await tasks.start('poster', gateway.channelId, 'tick');

		expect(contents(gateway)).toEqual(['tick 0', 'tick 1', 'tick 2', 'tick 3', 'tick 4']);
		// The worker had no token: every request reached the gateway through the main thread's REST manager.
		expect(gateway.requests.filter((r) => r.method === 'POST').every((r) => r.status === 200)).toBe(true);
		expect(gateway.unhandled).toEqual([]);
		expect(tasks.status()[0]).toMatchObject({
			name: 'poster',
			successes: 5,
			failures: 0,
			worker: true,
			running: false,
		});
	});

	test('discord.js message options are resolved by discord.js on the main thread: allowedMentions, embeds, files', async () => {
		const { gateway, tasks } = await bot();
		tasks.loop({ name: 'options', count: 1, logger: quiet }, fixture('post-options.mjs'));
		await tasks.start('options', gateway.channelId);

		const [message] = gateway.sentMessages;
		expect(message?.payload).toMatchObject({ content: 'hi @everyone', allowed_mentions: { parse: [] } });
		expect(message?.embeds).toEqual([expect.objectContaining({ title: 'Report' })]);
		expect(message?.files.map((file) => [file.filename, Buffer.from(file.data).toString()])).toEqual([
			['report.csv', 'a,b\n'],
		]);
	});

	test('waitUntilReady holds the first iteration until clientReady, and a second start() does not start it twice', async () => {
		const { gateway, client, tasks } = await bot({}, false);
		tasks.loop(
			{ name: 'poster', seconds: 0.05, count: 2, waitUntilReady: true, discord: { channels: [gateway.channelId] } },
			fixture('post-iteration.mjs'),
		);
		const run = tasks.start('poster', gateway.channelId, 'ready');
		await delay(300);
		expect(gateway.sentMessages).toHaveLength(0);
		expect(tasks.get('poster')?.state).toBe('starting');

		await loginAndWaitReady(client);
		// A ready handler that fires again must not start the loop a second time.
		expect(tasks.start('poster', gateway.channelId, 'again')).toBe(run);
		await run;
		expect(contents(gateway)).toEqual(['ready 0', 'ready 1']);
	});

	test('a channel outside the allowlist is refused inside the task with DiscordAccessError, not retried', async () => {
		const { gateway, tasks } = await bot();
		const errors: unknown[] = [];
		const poster = tasks.loop(
			{ name: 'poster', seconds: 0.05, discord: { channels: ['999999999999999999'] }, onError: (e) => errors.push(e) },
			fixture('post-iteration.mjs'),
		);
		await expect(tasks.start('poster', gateway.channelId, 'nope')).rejects.toBeInstanceOf(TaskError);

		expect(gateway.sentMessages).toHaveLength(0);
		expect(poster.failed()).toBe(true);
		const cause = (errors[0] as TaskError).cause;
		expect(cause).toBeInstanceOf(DiscordAccessError);
		expect(cause).toMatchObject({ code: ErrorCode.DiscordAccessDenied });
		expect((cause as Error).message).toContain(gateway.channelId);
	});

	test('REST routes need the routes allowlist; an allowed route returns Discord JSON to the task', async () => {
		const { gateway, tasks } = await bot();
		const denied = tasks.loop({ name: 'denied', count: 1, onError() {} }, fixture('rest-call.mjs'));
		await expect(tasks.start('denied', 'get', `/guilds/${gateway.guildId}`)).rejects.toBeInstanceOf(TaskError);
		expect(denied.failed()).toBe(true);

		const results: unknown[] = [];
		const allowed = tasks.loop(
			{ name: 'allowed', count: 1, discord: { routes: ['GET /guilds/:id'] } },
			fixture('rest-call.mjs'),
		);
		allowed.on('iterationCompleted', ({ result }) => results.push(result));
		await tasks.start('allowed', 'get', `/guilds/${gateway.guildId}`);
		expect(results[0]).toMatchObject({ id: gateway.guildId, name: 'Loopback Guild' });
	});
});

describe('the bot stays responsive while worker loops burn CPU', () => {
	/**
	 * Injects a user message on a 40 ms grid for `ms` and returns how late each reached `messageCreate`, measured
	 * from the moment it was due: an event that arrives while the main thread is blocked waits for the block.
	 */
	async function messageLatencies(gateway: LoopbackGateway, client: Client, ms: number): Promise<number[]> {
		const dueAt = new Map<string, number>();
		const latencies: number[] = [];
		const onMessage = (message: Message) => {
			const due = dueAt.get(message.content);
			if (due !== undefined) latencies.push(performance.now() - due);
		};
		client.on('messageCreate', onMessage);
		const start = performance.now();
		for (let i = 0; i * 40 < ms; i++) {
			const due = start + i * 40;
			const wait = due - performance.now();
			if (wait > 0) await delay(wait);
			dueAt.set(`ping ${i}`, due);
			gateway.injectMessage({ content: `ping ${i}` });
		}
		await delay(400);
		client.off('messageCreate', onMessage);
		expect(latencies.length).toBe(dueAt.size);
		return latencies;
	}

	test('messages reach messageCreate promptly and heartbeats are acked, unlike the same body on the main thread', async () => {
		const { gateway, client, tasks } = await bot();
		tasks.loop({ name: 'heavy', seconds: 0.3, logger: quiet }, fixture('cpu-burn.mjs'));
		void tasks.start('heavy', 250);
		await delay(300);
		const heartbeatsBefore = gateway.counters.heartbeatAcks;
		const inWorker = await messageLatencies(gateway, client, 1500);
		expect(Math.max(...inWorker)).toBeLessThan(100);
		expect(gateway.counters.heartbeatAcks - heartbeatsBefore).toBeGreaterThanOrEqual(3);
		expect(client.ws.ping).toBeLessThan(100);
		expect(tasks.status()[0]?.successes).toBeGreaterThanOrEqual(3);
		tasks.cancel('heavy');

		// The same body as a main-thread loop: the event loop is blocked for 250 ms at a time.
		tasks.loop({ name: 'inline', seconds: 0.3, logger: quiet }, () => burn(250));
		void tasks.start('inline');
		const inline = await messageLatencies(gateway, client, 1500);
		tasks.cancel('inline');
		expect(Math.max(...inline)).toBeGreaterThan(150);
	});
});

describe('gateway trouble while loops run', () => {
	test('a dropped socket, op 7 and an invalidated session: the client recovers and no iteration is lost or doubled', async () => {
		const { gateway, client, tasks } = await bot();
		const poster = tasks.loop(
			{ name: 'poster', seconds: 0.1, count: 24, discord: { channels: [gateway.channelId] }, logger: quiet },
			fixture('post-iteration.mjs'),
		);
		const run = tasks.start('poster', gateway.channelId, 'n');
		const waitIteration = async (n: number) => {
			while (poster.isRunning() && poster.currentLoop < n) await delay(10);
		};

		await waitIteration(4);
		const resumed = nextEvent(client, 'shardResume');
		gateway.dropConnections();
		await resumed;

		await waitIteration(10);
		const resumedAgain = nextEvent(client, 'shardResume');
		gateway.sendReconnect();
		await resumedAgain;

		await waitIteration(16);
		const reidentified = nextEvent(client, 'shardReady');
		gateway.invalidateSession(false);
		await reidentified;

		await run;
		expect(contents(gateway)).toEqual(Array.from({ length: 24 }, (_, i) => `n ${i}`));
		expect(gateway.counters.resumes).toBeGreaterThanOrEqual(2);
		expect(gateway.counters.identifies).toBeGreaterThanOrEqual(2);
		expect(tasks.status()[0]).toMatchObject({ successes: 24, failures: 0 });
	});

	test('a 429 is waited out by the REST manager; 5xx past its retries is retried by the loop with backoff', async () => {
		const { gateway, tasks } = await bot();
		const poster = tasks.loop(
			{
				name: 'poster',
				seconds: 0.05,
				count: 3,
				discord: { channels: [gateway.channelId] },
				logger: quiet,
				random: () => 0.01,
			},
			fixture('post-iteration.mjs'),
		);
		const reconnecting: unknown[] = [];
		poster.on('reconnecting', ({ error }) => reconnecting.push(error));
		gateway.failRest({ status: 429, retryAfterSeconds: 0.2, times: 1, method: 'POST' });
		await tasks.start('poster', gateway.channelId, 'a');
		expect(contents(gateway)).toEqual(['a 0', 'a 1', 'a 2']);
		expect(gateway.requests.some((r) => r.status === 429)).toBe(true);
		expect(reconnecting).toHaveLength(0);

		// @discordjs/rest retries a 5xx three times; the fourth failure reaches the task and the loop's backoff.
		gateway.failRest({ status: 500, times: 4, method: 'POST' });
		await tasks.start('poster', gateway.channelId, 'b');
		expect(contents(gateway).slice(3)).toEqual(['b 0', 'b 1', 'b 2']);
		expect(reconnecting).toHaveLength(1);
		const cause = (reconnecting[0] as TaskError).cause as Error & { status?: number };
		expect(reconnecting[0]).toBeInstanceOf(TaskError);
		expect(cause.name).toMatch(/HTTPError|DiscordAPIError/);
		expect(cause.status).toBe(500);
	});
});

describe('token isolation', () => {
	test('a task that looks for the token in its environment, its context and the globals finds nothing', async () => {
		const token = 'loopback-secret-token-4f9a';
		const previous = process.env['DISCORD_TOKEN'];
		process.env['DISCORD_TOKEN'] = token;
		cleanups.push(() => {
			if (previous === undefined) delete process.env['DISCORD_TOKEN'];
			else process.env['DISCORD_TOKEN'] = previous;
		});
		const { gateway, client, tasks } = await bot({}, false);
		await loginAndWaitReady(client, token);
		expect(gateway.counters.identifies).toBe(1);

		const results: unknown[] = [];
		const probe = tasks.loop({ name: 'probe', count: 1 }, fixture('token-probe.mjs'));
		probe.on('iterationCompleted', ({ result }) => results.push(result));
		// The probe gets only a fragment to search for, so the token itself never crosses as an argument.
		await tasks.start('probe', token.slice(9));
		expect(results).toEqual([{ places: [], envHasToken: false, argv: false }]);
	});
});

describe('LoopController loops with their own worker', () => {
	test("a dedicated loop reaches Discord through the controller's client", async () => {
		const { gateway, tasks } = await bot();
		tasks.loop(
			{ name: 'own', count: 1, isolation: 'dedicated', discord: { channels: [gateway.channelId] } },
			fixture('post-iteration.mjs'),
		);
		await tasks.start('own', gateway.channelId, 'dedicated');
		expect(contents(gateway)).toEqual(['dedicated 0']);
	});
});

describe('waitUntilReady', () => {
	test('a run cancelled while waiting for clientReady leaves no listener on the client', async () => {
		const { gateway, client, tasks } = await bot({}, false);
		const before = client.listenerCount('clientReady');
		tasks.loop({ name: 'waiting', seconds: 1, waitUntilReady: true }, () => {});
		for (let i = 0; i < 5; i++) {
			const run = tasks.start('waiting');
			await delay(20);
			expect(client.listenerCount('clientReady')).toBe(before + 1);
			tasks.cancel('waiting');
			await run;
		}
		expect(client.listenerCount('clientReady')).toBe(before);
		expect(gateway.sentMessages).toHaveLength(0);
	});
});

describe('LoopController#close', () => {
	test('ends sleeping loops at once, lets a running iteration finish, and closes the pool', async () => {
		const { tasks } = await bot();
		const results: unknown[] = [];
		const heavy = tasks.loop({ name: 'heavy', seconds: 60 }, fixture('cpu-burn.mjs'));
		heavy.on('iterationCompleted', ({ result }) => results.push(result));
		tasks.loop({ name: 'sleeper', minutes: 10 }, () => {});
		const heavyRun = tasks.start('heavy', 400);
		const sleeperRun = tasks.start('sleeper');
		while (heavy.state !== 'running') await delay(5);
		await delay(50);

		await tasks.close({ timeoutMs: 5000 });
		await Promise.all([heavyRun, sleeperRun]);
		expect(results).toEqual([400]);
		expect(tasks.pool.closed).toBe(true);
		expect(tasks.status().map((s) => s.running)).toEqual([false, false]);
		expect(() => tasks.loop({ name: 'late' }, () => {})).toThrow(/closed/);
		expect(() => tasks.start('sleeper')).toThrow(/closed/);
		expect(() => tasks.changeInterval('sleeper', { minutes: 1 })).toThrow(/closed/);
	});
});
