import { LoopController, type LoopControllerOptions } from 'discord-tasks';
import { LoopbackGateway } from 'discord-tasks/testing';
import { afterEach } from 'vitest';
import { createClient, loginAndWaitReady, startGateway } from './loopback-bot.js';

/** The guild and the two text channels the boundary tests use: a task may be allowed one and not the other. */
export const GUILD = '1300000000000000010';
export const CHANNEL_A = '1300000000000000011';
export const CHANNEL_B = '1300000000000000021';

/** A hostile task fixture under test/fixtures/hostile, as the URL a worker loop takes. */
export const hostile = (name: string): URL => new URL(`../fixtures/hostile/${name}`, import.meta.url);

/** Silences a loop's logs. */
export const quiet = { warn() {}, error() {} };

/**
 * Bots for the boundary tests: the discord.js client logged into a loopback gateway with two channels, and a
 * LoopController on it, all shut down after each test. Call once at the top level of a test file.
 */
export function useBoundaryBot() {
	const cleanups: (() => unknown)[] = [];
	afterEach(async () => {
		for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
	});
	return {
		cleanups,
		async bot(options: Omit<LoopControllerOptions, 'client'> = {}, token = 'loopback-test-token') {
			const gateway = await startGateway(LoopbackGateway, cleanups, {
				heartbeatIntervalMs: 250,
				token,
				guilds: [{ id: GUILD }],
				channels: [
					{ id: CHANNEL_A, guildId: GUILD },
					{ id: CHANNEL_B, guildId: GUILD },
				],
			});
			const client = createClient(gateway, cleanups);
			const tasks = new LoopController({ client, pool: { threads: 1, graceMs: 200 }, ...options });
			cleanups.push(() => tasks.close({ timeoutMs: 1000 }));
			await loginAndWaitReady(client, token);
			return { gateway, client, tasks };
		},
	};
}

/** Messages the gateway recorded in `channelId`, by content. */
export function contentsIn(gateway: LoopbackGateway, channelId: string): string[] {
	return gateway.sentMessages.filter((message) => message.channelId === channelId).map((message) => message.content);
}

/**
 * Starts a loop by name and waits for its first iteration to end, completed or failed, then cancels the loop. A
 * task that breaks the host protocol gets its worker replaced and the iteration fails as a crash, which a loop
 * retries by default: without the cancel, such a loop would go on retrying.
 */
export async function firstOutcome(
	tasks: LoopController,
	name: string,
	...args: unknown[]
): Promise<{ readonly result?: unknown; readonly error?: unknown }> {
	const loop = tasks.get(name);
	if (!loop) throw new Error(`no loop named ${name}`);
	let onCompleted: (info: { readonly result: unknown }) => void = () => {};
	let onFailed: (info: { readonly error: unknown }) => void = () => {};
	const ended = new Promise<{ result?: unknown; error?: unknown }>((resolve) => {
		onCompleted = ({ result }) => resolve({ result });
		onFailed = ({ error }) => resolve({ error });
	});
	loop.on('iterationCompleted', onCompleted);
	loop.on('iterationFailed', onFailed);
	const run = tasks.start(name, ...args).catch(() => {});
	const outcome = await ended;
	loop.off('iterationCompleted', onCompleted);
	loop.off('iterationFailed', onFailed);
	loop.cancel();
	await run;
	return outcome;
}
