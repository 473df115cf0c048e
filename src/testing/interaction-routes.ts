import { discordError } from './default-rest-routes.js';
import type { GatewayFixtures } from './gateway-fixtures.js';
import type { InteractionResponse, InteractionResponseKind, InteractionStore } from './interaction-store.js';
import { isJsonObject, type JsonObject } from './json-value.js';
import { buildMessageObject } from './message-store.js';
import type { LoopbackRestResponse, RestRouter } from './rest-router.js';

/**
 * What the interaction routes need from the gateway that owns them.
 * @internal
 */
export interface InteractionRouteHost {
	readonly fixtures: GatewayFixtures;
	readonly interactions: InteractionStore;
	nextId(): string;
	/** Counts an answer and tells the gateway's listeners (`'interactionResponse'`). */
	recordResponse(response: InteractionResponse): void;
}

/** Interaction callback types that create the original response message: a message, or a deferred one. */
const CHANNEL_MESSAGE = 4;
const DEFERRED_CHANNEL_MESSAGE = 5;
/** Message flag LOADING: a deferred response shows "Bot is thinking…". */
const LOADING = 128;

const unknownInteraction = () => discordError(404, 10062, 'Unknown interaction');
const unknownMessage = () => discordError(404, 10008, 'Unknown Message');

/**
 * Answers the routes discord.js uses to respond to interactions, as Discord does: the callback, and the webhook
 * routes of `editReply()`, `fetchReply()`, `deleteReply()` and `followUp()`. discord.js sends them without the
 * bot token (the interaction token in the path is the credential), so the gateway lets them through unauthenticated.
 * @internal
 */
export function registerInteractionRoutes(router: RestRouter, host: InteractionRouteHost): void {
	const { interactions, fixtures } = host;

	const message = (channelId: string, data: JsonObject, id = host.nextId()): JsonObject => {
		const embeds = data['embeds'];
		return buildMessageObject({
			id,
			channelId,
			author: fixtures.user(fixtures.botUserId) ?? {},
			content: typeof data['content'] === 'string' ? data['content'] : '',
			embeds: Array.isArray(embeds) ? (embeds as JsonObject[]) : [],
			flags: typeof data['flags'] === 'number' ? data['flags'] : 0,
		});
	};
	const record = (interactionId: string, kind: InteractionResponseKind, type: number | null, data: JsonObject) =>
		host.recordResponse(interactions.record(interactionId, kind, type, data));

	router.add(
		'POST',
		'/interactions/:interactionId/:token/callback',
		({ params, body, query }): LoopbackRestResponse => {
			const interaction = interactions.byToken(params.token);
			if (interaction === undefined || interaction.id !== params.interactionId) return unknownInteraction();
			if (interaction.responded) return discordError(400, 40060, 'Interaction has already been acknowledged.');
			if (!isJsonObject(body) || typeof body['type'] !== 'number') {
				return discordError(400, 50035, 'Invalid Form Body');
			}
			const type = body['type'];
			const data = isJsonObject(body['data']) ? body['data'] : {};
			interaction.responded = true;
			if (type === CHANNEL_MESSAGE) interaction.original = message(interaction.channelId, data);
			if (type === DEFERRED_CHANNEL_MESSAGE) {
				const flags = (typeof data['flags'] === 'number' ? data['flags'] : 0) | LOADING;
				interaction.original = message(interaction.channelId, { flags });
			}
			record(interaction.id, 'callback', type, data);
			if (query.get('with_response') !== 'true') return { status: 204 };
			const original = interaction.original;
			return {
				body: {
					interaction: {
						id: interaction.id,
						type: 2,
						activity_instance_id: null,
						response_message_id: original?.['id'] ?? null,
						response_message_loading: type === DEFERRED_CHANNEL_MESSAGE,
						response_message_ephemeral: original !== undefined && ((original['flags'] as number) & 64) !== 0,
					},
					resource: { type, ...(original === undefined ? {} : { message: original }) },
				},
			};
		},
	);

	router.add('GET', '/webhooks/:applicationId/:token/messages/:messageId', ({ params }) => {
		const interaction = interactions.byToken(params.token);
		if (interaction === undefined) return unknownInteraction();
		if (params.messageId !== '@original' || interaction.original === undefined) return unknownMessage();
		return { body: interaction.original };
	});

	router.add('PATCH', '/webhooks/:applicationId/:token/messages/:messageId', ({ params, body }) => {
		const interaction = interactions.byToken(params.token);
		if (interaction === undefined) return unknownInteraction();
		if (params.messageId !== '@original' || interaction.original === undefined) return unknownMessage();
		const data = isJsonObject(body) ? body : {};
		const original = interaction.original;
		// An edit of a deferred reply keeps its ephemeral flag and drops LOADING, as Discord does.
		const flags = ((original['flags'] as number) & ~LOADING) | (typeof data['flags'] === 'number' ? data['flags'] : 0);
		interaction.original = { ...message(interaction.channelId, { ...data, flags }, original['id'] as string) };
		record(interaction.id, 'edit', null, data);
		return { body: interaction.original };
	});

	router.add('DELETE', '/webhooks/:applicationId/:token/messages/:messageId', ({ params }) => {
		const interaction = interactions.byToken(params.token);
		if (interaction === undefined) return unknownInteraction();
		if (params.messageId === '@original') interaction.original = undefined;
		return { status: 204 };
	});

	router.add('POST', '/webhooks/:applicationId/:token', ({ params, body }) => {
		const interaction = interactions.byToken(params.token);
		if (interaction === undefined) return unknownInteraction();
		const data = isJsonObject(body) ? body : {};
		record(interaction.id, 'followUp', null, data);
		return { body: message(interaction.channelId, data) };
	});
}
