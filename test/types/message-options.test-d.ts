import type { MessageCreateOptions } from 'discord.js';
import { describe, expectTypeOf, test } from 'vitest';
import { defineTask, type MessageOptions } from '../../src/worker-api.js';

describe('ctx.discord.send() payloads', () => {
	test('are discord.js message options: what channel.send() takes (files aside) compiles, the API names do not', () => {
		defineTask(async (ctx, channelId: string, csv: Uint8Array) => {
			await ctx.discord.send(channelId, 'plain content');
			await ctx.discord.send(channelId, {
				content: 'Top 10',
				allowedMentions: { parse: [] },
				embeds: [{ title: 'Leaderboard', color: 0x5865f2, fields: [{ name: '#1', value: 'someone', inline: true }] }],
				components: [{ type: 1, components: [{ type: 2, style: 5, label: 'Open', url: 'https://example.com' }] }],
				files: [{ attachment: csv, name: 'scores.csv' }],
				flags: ['SuppressEmbeds', 'SuppressNotifications'],
				reply: { messageReference: '123' },
			});
			// @ts-expect-error Discord's API name: discord.js (and send()) take allowedMentions
			await ctx.discord.send(channelId, { content: 'x', allowed_mentions: { parse: [] } });
			// @ts-expect-error a typo is a compile error
			await ctx.discord.send(channelId, { contnet: 'x' });
			// @ts-expect-error parse takes 'users' | 'roles' | 'everyone'
			await ctx.discord.send(channelId, { allowedMentions: { parse: ['user'] } });
			// @ts-expect-error files carry their bytes, not a path the main thread would read
			await ctx.discord.send(channelId, { files: [{ attachment: './a.png', name: 'a.png' }] });
		});
	});

	test('are a subset of discord.js MessageCreateOptions, so they mean there what they mean here', () => {
		expectTypeOf<Omit<MessageOptions, 'files'>>().toExtend<MessageCreateOptions>();
	});
});
