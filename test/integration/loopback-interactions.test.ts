import {
	type ChatInputCommandInteraction,
	Events,
	type Interaction,
	MessageFlags,
	SlashCommandBuilder,
} from 'discord.js';
import { InvalidOptionError } from 'discord-tasks';
import { LoopbackGateway } from 'discord-tasks/testing';
import { afterEach, describe, expect, test } from 'vitest';
import { createClient, loginAndWaitReady, nextEvent, startGateway } from '../helpers/loopback-bot.js';

// The loopback gateway's interactions, driven by the real discord.js client: a registered command, an injected
// INTERACTION_CREATE, and every route discord.js answers through.

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ping = new SlashCommandBuilder()
	.setName('ping')
	.setDescription('Ping')
	.addStringOption((option) => option.setName('word').setDescription('A word'));

async function bot() {
	const gateway = await startGateway(LoopbackGateway, cleanups);
	const client = createClient(gateway, cleanups);
	await loginAndWaitReady(client);
	await client.application?.commands.create(ping.toJSON());
	return { gateway, client };
}

describe('LoopbackGateway#injectInteraction', () => {
	test('dispatches a command the client sees with its name, options, channel and member', async () => {
		const { gateway, client } = await bot();
		const received = nextEvent(client, Events.InteractionCreate);
		gateway.injectInteraction({ commandName: 'ping', options: [{ type: 3, name: 'word', value: 'hi' }] });
		const [interaction] = (await received) as [ChatInputCommandInteraction];
		expect(interaction.isChatInputCommand()).toBe(true);
		expect(interaction.commandName).toBe('ping');
		expect(interaction.options.getString('word')).toBe('hi');
		expect(interaction.channelId).toBe(gateway.channelId);
		expect(interaction.guildId).toBe(gateway.guildId);
		expect(interaction.user.id).toBe(gateway.humanUserId);
		// The human fixture user owns the guild: Discord reports every permission for an owner.
		expect(interaction.memberPermissions?.has('ManageGuild')).toBe(true);
		await interaction.reply('pong');
		expect(gateway.interactionResponses).toMatchObject([
			{ kind: 'callback', type: 4, content: 'pong', ephemeral: false },
		]);
	});

	test('records a deferred reply, its edit, a fetch of it and a follow-up, and discord.js refuses a second reply', async () => {
		const { gateway, client } = await bot();
		const answer = async (interaction: Interaction) => {
			if (!interaction.isChatInputCommand()) return;
			await interaction.deferReply({ flags: MessageFlags.Ephemeral });
			await interaction.editReply('done');
			const reply = await interaction.fetchReply();
			await interaction.followUp({ content: `edited: ${reply.content}`, flags: MessageFlags.Ephemeral });
			await interaction
				.reply('again')
				.catch((error: Error) => interaction.followUp((error as Error & { code?: string }).code ?? error.name));
		};
		client.on(Events.InteractionCreate, (interaction) => void answer(interaction));
		const { id } = gateway.injectInteraction({ commandName: 'ping' });
		const responses = await gateway.waitForInteractionResponses(4, { interactionId: id });
		expect(responses).toMatchObject([
			{ kind: 'callback', type: 5, ephemeral: true },
			{ kind: 'edit', type: null, content: 'done' },
			{ kind: 'followUp', content: 'edited: done', ephemeral: true },
			// discord.js refuses a second reply itself (InteractionAlreadyReplied), before any request.
			{ kind: 'followUp', content: 'InteractionAlreadyReplied' },
		]);
		expect(gateway.counters).toMatchObject({ interactionsCreated: 1, interactionResponses: 4 });
		expect(gateway.unhandled).toEqual([]);
	});

	test('answers a second callback to the same interaction with 40060, as Discord does', async () => {
		const { gateway, client } = await bot();
		const { id, token } = gateway.injectInteraction({ commandName: 'ping' });
		const body = { type: 4, data: { content: 'one' } };
		await client.rest.post(`/interactions/${id}/${token}/callback`, { body, auth: false });
		await expect(
			client.rest.post(`/interactions/${id}/${token}/callback`, { body, auth: false }),
		).rejects.toMatchObject({
			code: 40060,
		});
	});

	test('refuses a command the bot did not register, naming the option', async () => {
		const { gateway } = await bot();
		expect(() => gateway.injectInteraction({ commandName: 'nope' })).toThrow(InvalidOptionError);
		expect(() => gateway.injectInteraction({ commandName: 'nope' })).toThrow(
			/`options.commandName` must be the name of a command the bot registered/,
		);
		expect(gateway.commands().map((command) => command['name'])).toEqual(['ping']);
	});
});
