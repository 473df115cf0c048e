import { ErrorCode, loop, TaskPool } from 'discord-tasks';
import { expect, test, vi } from 'vitest';
import { CHANNEL_A, contentsIn, useBoundaryBot } from '../helpers/boundary-bot.js';
import { fixture } from '../helpers/worker-loops.js';

// Discord access belongs to each iteration, not to the pool: two controllers (two bots) sharing one TaskPool each
// post through their own client, and a bare loop on that pool has no client at all.

const { cleanups, bot } = useBoundaryBot();

test('two controllers on one pool: each loop posts through its own bot; a bare loop({ pool }) has no client', async () => {
	const pool = new TaskPool({ threads: 2, graceMs: 200 });
	cleanups.push(() => pool.close());
	const first = await bot({ pool }, 'first-bot-token');
	const second = await bot({ pool }, 'second-bot-token');
	const post = fixture('e2e/post-iteration.mjs');
	first.tasks.loop({ name: 'poster', count: 2, seconds: 0, discord: { channels: [CHANNEL_A] } }, post);
	second.tasks.loop({ name: 'poster', count: 2, seconds: 0, discord: { channels: [CHANNEL_A] } }, post);

	// Interleaved, so a pool-wide binding (the last controller's client) would show.
	await Promise.all([
		first.tasks.start('poster', CHANNEL_A, 'first'),
		second.tasks.start('poster', CHANNEL_A, 'second'),
	]);

	expect(contentsIn(first.gateway, CHANNEL_A)).toEqual(['first 0', 'first 1']);
	expect(contentsIn(second.gateway, CHANNEL_A)).toEqual(['second 0', 'second 1']);
	const authorizations = (gateway: typeof first.gateway) =>
		new Set(
			gateway.requests.filter((request) => request.method === 'POST').map((request) => request.headers.authorization),
		);
	expect(authorizations(first.gateway)).toEqual(new Set(['Bot first-bot-token']));
	expect(authorizations(second.gateway)).toEqual(new Set(['Bot second-bot-token']));

	const onError = vi.fn();
	const bare = loop({ count: 1, pool, reconnect: false, onError, logger: { warn() {}, error() {} } }, post);
	const error = await bare.start(CHANNEL_A, 'bare').catch((reason: unknown) => reason);
	expect(error).toMatchObject({ code: ErrorCode.TaskFailed, cause: { code: ErrorCode.DiscordUnavailable } });
	expect(contentsIn(first.gateway, CHANNEL_A)).toHaveLength(2);
	expect(contentsIn(second.gateway, CHANNEL_A)).toHaveLength(2);
});
