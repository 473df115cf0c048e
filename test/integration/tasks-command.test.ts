import type { Client } from 'discord.js';
import { LoopController } from 'discord-tasks';
import { TasksCommand } from 'discord-tasks/commands';
import { type InjectInteractionOptions, LoopbackGateway } from 'discord-tasks/testing';
import { afterEach, describe, expect, test } from 'vitest';
import { createClient, loginAndWaitReady, nextEvent, startGateway } from '../helpers/loopback-bot.js';

// The /tasks command end to end: the real discord.js client registers it on the loopback gateway, receives
// INTERACTION_CREATE for it, and answers through the interaction callback route.

const quiet = { warn() {}, error() {} };
/** VIEW_CHANNEL | SEND_MESSAGES: a member without Manage Server. */
const NO_MANAGE_SERVER = String((1n << 10n) | (1n << 11n));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function bot() {
	const gateway = await startGateway(LoopbackGateway, cleanups);
	const client: Client = createClient(gateway, cleanups);
	const tasks = new LoopController({ client, logger: quiet });
	cleanups.push(() => tasks.close({ timeoutMs: 1000 }));
	const greetings: string[] = [];
	tasks.loop({ name: 'greeter', seconds: 0.2 }, (who: string) => {
		greetings.push(who);
	});
	tasks.loop({ name: 'ticker', seconds: 30 }, () => {});
	const command = new TasksCommand(tasks);
	cleanups.push(command.listen(client));
	await loginAndWaitReady(client);
	await client.application?.commands.set([command.toJSON()], gateway.guildId);
	/** Runs `/tasks <subcommand> [loop]` (or its autocomplete) and waits for the bot's answer. */
	const run = async (
		subcommand: string,
		loop?: string,
		options: Omit<InjectInteractionOptions, 'commandName'> = {},
	) => {
		const { id } = gateway.injectInteraction({
			commandName: 'tasks',
			options: [
				{ type: 1, name: subcommand, options: loop === undefined ? [] : [{ type: 3, name: 'loop', value: loop }] },
			],
			...options,
		});
		const [response] = await gateway.waitForInteractionResponses(1, { interactionId: id });
		if (!response) throw new Error('no response');
		return response;
	};
	return { gateway, client, tasks, greetings, run };
}

describe('/tasks', () => {
	test('is registered for servers only, with Manage Server as its default permission', async () => {
		const { gateway } = await bot();
		const [registered] = gateway.commands(gateway.guildId);
		expect(registered).toMatchObject({ name: 'tasks', default_member_permissions: '32', contexts: [0] });
		const subcommands = ((registered?.['options'] ?? []) as { name: string }[]).map((option) => option.name);
		expect(subcommands).toEqual(['list', 'status', 'start', 'stop', 'cancel', 'restart']);
	});

	test('list answers with an ephemeral embed of every loop: state, next run, lateness, last error', async () => {
		const { tasks, run } = await bot();
		void tasks.start('ticker');
		await nextEvent(tasks, 'iterationCompleted');
		const response = await run('list');
		expect(response).toMatchObject({ kind: 'callback', type: 4, ephemeral: true });
		const fields = response.embeds[0]?.['fields'] as { name: string; value: string }[];
		expect(fields.map((field) => field.name)).toEqual(['greeter', 'ticker']);
		expect(fields[0]?.value).toContain('**idle**');
		expect(fields[1]?.value).toMatch(
			/^\*\*waiting\*\* · every 30 s\nnext <t:\d+:R> · late \d+ ms \(p99 \d+ ms\)\nlast error: none$/,
		);
	});

	test('status shows one loop in detail', async () => {
		const { run } = await bot();
		const response = await run('status', 'ticker');
		expect(response.ephemeral).toBe(true);
		expect(response.embeds[0]).toMatchObject({ title: 'Loop ticker' });
	});

	test('stop, start, restart and cancel control the loop; start and restart reuse its last arguments', async () => {
		const { tasks, greetings, run } = await bot();
		void tasks.start('greeter', 'ada');
		await nextEvent(tasks, 'iterationCompleted');

		const stopped = nextEvent(tasks, 'loopStopped');
		expect((await run('stop', 'greeter')).content).toBe('`greeter` stops after its current iteration.');
		// stop() during the sleep runs one more iteration first (discord.py's rule), then the run ends.
		await stopped;

		const started = nextEvent(tasks, 'iterationCompleted');
		expect((await run('start', 'greeter')).content).toBe('Started `greeter`.');
		await started;

		const restarted = nextEvent(tasks, 'loopStarted');
		expect((await run('restart', 'greeter')).content).toBe('Restarted `greeter`.');
		await restarted;
		await nextEvent(tasks, 'iterationCompleted');
		expect(greetings.every((who) => who === 'ada')).toBe(true);
		expect(greetings.length).toBeGreaterThanOrEqual(3);

		const cancelled = nextEvent(tasks, 'loopStopped');
		expect((await run('cancel', 'greeter')).content).toBe('Cancelled `greeter`.');
		expect(await cancelled).toEqual([tasks.get('greeter'), { reason: 'cancelled' }]);
		expect((await run('stop', 'greeter')).content).toBe('`greeter` is not running.');
	});

	test('autocompletes loop names from what the member typed', async () => {
		const { gateway } = await bot();
		const { id } = gateway.injectInteraction({
			commandName: 'tasks',
			kind: 'autocomplete',
			options: [{ type: 1, name: 'status', options: [{ type: 3, name: 'loop', value: 'gr', focused: true }] }],
		});
		const [response] = await gateway.waitForInteractionResponses(1, { interactionId: id });
		expect(response).toMatchObject({ kind: 'callback', type: 8, choices: [{ name: 'greeter', value: 'greeter' }] });
	});

	test('refuses a member without Manage Server, even where the server lets them see the command', async () => {
		const { gateway, tasks, run } = await bot();
		const response = await run('start', 'greeter', { permissions: NO_MANAGE_SERVER });
		expect(response).toMatchObject({
			ephemeral: true,
			content: 'You need the Manage Server permission to use this command.',
		});
		expect(tasks.get('greeter')?.isRunning()).toBe(false);

		const { id } = gateway.injectInteraction({
			commandName: 'tasks',
			kind: 'autocomplete',
			permissions: NO_MANAGE_SERVER,
			options: [{ type: 1, name: 'status', options: [{ type: 3, name: 'loop', value: '', focused: true }] }],
		});
		const [completion] = await gateway.waitForInteractionResponses(1, { interactionId: id });
		expect(completion?.choices).toEqual([]);
		expect(gateway.counters).toMatchObject({ interactionsCreated: 2, interactionResponses: 2 });
		expect(gateway.unhandled).toEqual([]);
	});
});
