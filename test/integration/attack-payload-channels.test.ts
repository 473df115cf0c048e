import { ErrorCode } from 'discord-tasks';
import { describe, expect, test } from 'vitest';
import { CHANNEL_A, CHANNEL_B, hostile, quiet, useBoundaryBot } from '../helpers/boundary-bot.js';

// `discord.channels` is "the channels a task may name" (docs/security.md). A message can name a second channel in
// its payload: `message_reference: { type: 1, channel_id, message_id }` forwards a message of that channel into the
// one it is sent to, so a task limited to channel A reads channel B by forwarding B's messages into A. send() takes
// discord.js's message options, which have no field that names another channel, and refuses Discord's raw names.

const { bot } = useBoundaryBot();

describe('a loop with channels: [A]', () => {
	test('cannot forward a message of channel B into channel A', async () => {
		const { gateway, client, tasks } = await bot();
		const secret = (await client.rest.post(`/channels/${CHANNEL_B}/messages`, {
			body: { content: 'only for channel B' },
		})) as { id: string };
		const results: unknown[] = [];
		const forwarder = tasks.loop(
			{ name: 'forwarder', count: 1, discord: { channels: [CHANNEL_A] }, logger: quiet },
			hostile('forward-message.mjs'),
		);
		forwarder.on('iterationCompleted', ({ result }) => results.push(result));
		const before = gateway.requests.length;
		await tasks.start('forwarder', { to: CHANNEL_A, from: CHANNEL_B, messageId: secret.id });

		// No request that names channel B left the bot on the task's behalf.
		const sent = gateway.requests.slice(before);
		expect(sent.filter((request) => JSON.stringify(request.body ?? null).includes(CHANNEL_B))).toEqual([]);
		expect(results).toEqual([{ ok: false, code: ErrorCode.InvalidOption }]);
	});
});
