import { ErrorCode, InvalidOptionError, LoopController, loop, TaskPool } from 'discord-tasks';
import type { RestRequestRecord } from 'discord-tasks/testing';
import { describe, expect, test } from 'vitest';
import {
	CHANNEL_A,
	CHANNEL_B,
	contentsIn,
	firstOutcome,
	GUILD,
	hostile,
	quiet,
	useBoundaryBot,
} from '../helpers/boundary-bot.js';

// Issue #8: what a task may do on Discord is decided on the main thread, from the calling loop's allowlist; these
// tests check that a task cannot widen it: by borrowing another loop's scope, by routes that the allowlist check
// and the URL actually sent read differently, by method names that are not HTTP methods, or through an allowlist
// option that was mistyped.

const { cleanups, bot } = useBoundaryBot();

describe("another loop's Discord scope", () => {
	test("a task replaying its own call with neighbouring invocation ids cannot post with a concurrent loop's allowlist", async () => {
		const { gateway, tasks } = await bot({ pool: { threads: 2, graceMs: 200 } });
		const holder = tasks.loop(
			{ name: 'holder', count: 1, discord: { channels: [CHANNEL_B] }, logger: quiet, onError() {} },
			hostile('hold-channel.mjs'),
		);
		const holding = tasks.start('holder', CHANNEL_B, 2500).catch(() => {});
		cleanups.push(() => holder.cancel());
		// The holder's iteration is running (and its scope open) once its own message arrived.
		await gateway.waitForMessages(1, { channelId: CHANNEL_B });

		tasks.loop(
			{ name: 'borrower', count: 1, discord: { channels: [CHANNEL_A] }, logger: quiet, onError() {} },
			hostile('borrow-scope.mjs'),
		);
		await firstOutcome(tasks, 'borrower', CHANNEL_A, CHANNEL_B);
		holder.cancel();
		await holding;

		// The borrower's own, allowed message went out; nothing it forged reached the other loop's channel.
		expect(contentsIn(gateway, CHANNEL_A)).toEqual(['probe']);
		expect(contentsIn(gateway, CHANNEL_B)).toEqual(['own']);
	});
});

describe('REST routes', () => {
	const allowlist = [
		'GET /channels/:id/messages',
		'GET /guilds/:id/members',
		`GET /channels/${CHANNEL_A}/messages/*`,
		'DELETE /channels/:id/messages/:messageId',
		`DELETE /channels/${CHANNEL_A}/messages/:id`,
	];
	/** The allowlist, as the test reads a request the gateway recorded (its path is already normalised). */
	const allowed: readonly [string, RegExp][] = [
		['GET', /^\/channels\/\d+\/messages$/],
		['GET', /^\/guilds\/\d+\/members$/],
		['GET', new RegExp(`^/channels/${CHANNEL_A}/messages/[^/]+(?:/[^/]+)*$`)],
		['DELETE', /^\/channels\/\d+\/messages\/[^/]+$/],
	];
	const isAllowed = (request: RestRequestRecord) =>
		allowed.some(([method, path]) => request.method === method && path.test(request.path));

	const tricks: [string, string][] = [
		// A fragment: the check sees `/guilds/G#/members`, the server `/guilds/G`.
		['get', `/guilds/${GUILD}#/members`],
		['delete', `/channels/${CHANNEL_B}#/messages/1`],
		['delete', `/channels/${CHANNEL_A}/messages/1#/../../..`],
		// TAB, LF and CR inside a dot segment: the URL parser drops them and resolves the `..` they leave.
		['get', `/channels/${CHANNEL_A}/messages/.\t./.\t./.\t./guilds/${GUILD}`],
		['get', `/channels/${CHANNEL_A}/messages/.\n./.\n./.\n./guilds/${GUILD}`],
		['get', `/channels/${CHANNEL_A}/messages/.\r./.\r./.\r./guilds/${GUILD}`],
		['delete', `/channels/${CHANNEL_A}/messages/.\t.`],
		['delete', `/channels/${CHANNEL_A}/messages/\t..`],
		// A query where the path should be.
		['get', `/guilds/${GUILD}?/members`],
		['get', `/channels/${CHANNEL_A}/messages?/../../../guilds/${GUILD}`],
		['delete', `/channels/${CHANNEL_B}?/messages/1`],
		// Encoded dots and slashes, backslashes.
		['get', `/channels/${CHANNEL_A}/messages/%2e%2e/%2E%2E/%2e%2e/guilds/${GUILD}`],
		['get', `/channels/${CHANNEL_A}/messages/.%2e/.%2e/.%2e/guilds/${GUILD}`],
		['get', `/channels/${CHANNEL_A}/messages/..%2F..%2F..%2Fguilds%2F${GUILD}`],
		['get', `/channels/${CHANNEL_A}/messages/..\\..\\..\\guilds\\${GUILD}`],
		['delete', `/channels/${CHANNEL_A}/messages/..\\`],
	];

	test('tricks that read differently to the allowlist check and to the URL parser are refused and never sent', async () => {
		const { gateway, tasks } = await bot();
		const before = gateway.requests.length;
		const results: unknown[] = [];
		const tricky = tasks.loop(
			{ name: 'tricky', count: 1, discord: { routes: allowlist }, logger: quiet },
			hostile('rest-tricks.mjs'),
		);
		tricky.on('iterationCompleted', ({ result }) => results.push(result));
		await tasks.start('tricky', [['get', `/channels/${CHANNEL_A}/messages`], ...tricks]);

		const sent = gateway.requests.slice(before);
		// The plain allowed call went through, so the route check itself works.
		expect(sent.map((request) => `${request.method} ${request.path}`)).toContain(`GET /channels/${CHANNEL_A}/messages`);
		// No request reached a route outside the allowlist.
		expect(sent.filter((request) => !isAllowed(request)).map((r) => `${r.method} ${r.path}`)).toEqual([]);
		expect(sent.some((request) => request.path === `/guilds/${GUILD}`)).toBe(false);
		expect(sent.some((request) => request.method === 'DELETE' && /^\/channels\/\d+$/.test(request.path))).toBe(false);
		// Each trick was refused with DiscordAccessError.
		const outcomes = (results[0] as { route: string; ok: boolean; error?: { code?: string } }[]).slice(1);
		expect(outcomes.map(({ route, ok, error }) => ({ route, ok, code: error?.code }))).toEqual(
			tricks.map(([, route]) => ({ route, ok: false, code: ErrorCode.DiscordAccessDenied })),
		);
	});
});

describe('REST method names', () => {
	test("a forged call whose method is not an HTTP method is refused, and the bot's own REST calls still work", async () => {
		const { gateway, client, tasks } = await bot();
		const results: unknown[] = [];
		const forger = tasks.loop(
			{ name: 'forger', count: 1, discord: { routes: '*' }, logger: quiet, onError() {} },
			hostile('forge-method.mjs'),
		);
		forger.on('iterationCompleted', ({ result }) => results.push(result));
		const before = gateway.requests.length;
		await tasks.start('forger', `/channels/${CHANNEL_A}/messages`, ['setAgent', 'constructor', '__proto__', 'request']);

		// Only the task's own GET went out.
		expect(gateway.requests.slice(before).map((request) => request.method)).toEqual(['GET']);
		// The bot's own next calls are unaffected.
		await expect(client.rest.get(`/channels/${CHANNEL_A}`)).resolves.toMatchObject({ id: CHANNEL_A });
		const channel = await client.channels.fetch(CHANNEL_A, { force: true });
		expect(channel?.id).toBe(CHANNEL_A);
		// And none of the forged calls came back as a success.
		const { replies } = results[0] as { replies: { method: string; outcome: { reply?: { value?: unknown } } }[] };
		for (const { outcome } of replies) expect(outcome.reply?.value).not.toMatchObject({ ok: true });
	});
});

describe('the discord allowlist option', () => {
	const bad: [string, unknown][] = [
		['a misspelt key', { chanels: [CHANNEL_A] }],
		['a string', CHANNEL_A],
		['channels as a string', { channels: CHANNEL_A }],
		['routes as a string other than "*"', { routes: 'GET /channels/:id/messages' }],
		['a channel id that is not a string', { channels: [Number(1)] }],
	];

	test.each(bad)('%s is refused at loop() with an InvalidOptionError naming the option', async (_, discord) => {
		const tasks = new LoopController({ pool: { threads: 1 } });
		cleanups.push(() => tasks.close({ timeoutMs: 1000 }));
		let thrown: unknown;
		try {
			tasks.loop({ name: 'misconfigured', count: 1, discord } as never, hostile('rest-tricks.mjs'));
		} catch (error) {
			thrown = error;
		}
		expect(thrown).toBeInstanceOf(InvalidOptionError);
		expect((thrown as InvalidOptionError).option).toMatch(/^discord/);
		expect((thrown as Error).message).toMatch(/discord/);
	});

	test.each(bad)('%s is refused by loop() outside a controller too', (_, discord) => {
		const pool = new TaskPool({ threads: 1 });
		cleanups.push(() => pool.close());
		expect(() => loop({ count: 1, pool, discord } as never, hostile('rest-tricks.mjs'))).toThrow(InvalidOptionError);
	});
});
