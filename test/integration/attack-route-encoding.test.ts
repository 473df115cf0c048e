import { ErrorCode } from 'discord-tasks';
import { describe, expect, test } from 'vitest';
import { CHANNEL_A, CHANNEL_B, hostile, quiet, useBoundaryBot } from '../helpers/boundary-bot.js';

// `channels` limits every route under /channels/{id}. RFC 3986 (6.2.2.2) makes a percent-encoded unreserved
// character the same as the character itself, and servers and proxies that normalise paths decode it before
// routing: `/%63hannels/B/messages` is `/channels/B/messages` to them. The channel check must not be skipped for
// a first segment that only spells `channels` differently.

const { bot } = useBoundaryBot();

/** `channels` with one or more letters percent-encoded, in both cases of hex digit. */
const spellings = ['%63hannels', '%43hannels', 'ch%61nnels', '%63%68%61%6e%6e%65%6c%73', '%63%68%61%6E%6E%65%6C%73'];

const decodedPath = (path: string) => {
	try {
		return decodeURIComponent(path).toLowerCase();
	} catch {
		return path.toLowerCase();
	}
};

describe('a loop with routes: "*" and channels: [A]', () => {
	test('cannot reach channel B through a percent-encoded `channels` segment', async () => {
		const { gateway, tasks } = await bot();
		const results: unknown[] = [];
		const encoder = tasks.loop(
			{ name: 'encoder', count: 1, discord: { routes: '*', channels: [CHANNEL_A] }, logger: quiet },
			hostile('rest-tricks.mjs'),
		);
		encoder.on('iterationCompleted', ({ result }) => results.push(result));
		const before = gateway.requests.length;
		const calls = spellings.flatMap((spelling) => [
			['get', `/${spelling}/${CHANNEL_B}/messages`],
			['get', `/${spelling}/${CHANNEL_B}`],
		]);
		await tasks.start('encoder', [['get', `/channels/${CHANNEL_A}/messages`], ...calls]);

		const sent = gateway.requests.slice(before).map((request) => decodedPath(request.path));
		// The plain call on the allowed channel went out, so the REST bridge works.
		expect(sent).toContain(`/channels/${CHANNEL_A}/messages`);
		// Nothing that a normalising server reads as a route of channel B was requested.
		expect(sent.filter((path) => path.startsWith(`/channels/${CHANNEL_B}`))).toEqual([]);
		// Each spelling was refused as a denied Discord access.
		const outcomes = (results[0] as { route: string; ok: boolean; error?: { code?: string } }[]).slice(1);
		expect(outcomes.map(({ route, ok, error }) => ({ route, ok, code: error?.code }))).toEqual(
			calls.map(([, route]) => ({ route, ok: false, code: ErrorCode.DiscordAccessDenied })),
		);
	});
});
