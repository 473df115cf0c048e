import type { CommandStore } from './command-store.js';
import type { GatewayFixtures } from './gateway-fixtures.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json-value.js';
import { buildMessageObject, type MessageStore } from './message-store.js';
import type { LoopbackRestResponse, RestFile, RestRouter } from './rest-router.js';

/**
 * A file served under `/attachments/...`, as Discord's CDN would.
 * @internal
 */
export interface StoredAttachment {
	readonly data: Buffer;
	readonly contentType: string;
}

/**
 * What the built-in routes need from the gateway that owns them.
 * @internal
 */
export interface DefaultRestRouteHost {
	readonly fixtures: GatewayFixtures;
	readonly messages: MessageStore;
	readonly attachments: Map<string, StoredAttachment>;
	/** The application commands the bot registered. */
	readonly commands: CommandStore;
	/** `ws://127.0.0.1:PORT`, the URL `/gateway/bot` hands out. */
	gatewayUrl(): string;
	/** `http://127.0.0.1:PORT`, the base of attachment URLs. */
	baseUrl(): string;
	nextId(): string;
	/** Records a message the bot sent (`sentMessages`, `'message'`) and echoes MESSAGE_CREATE if enabled. */
	recordBotMessage(message: JsonObject, payload: JsonObject, files: readonly RestFile[]): void;
	/** Echoes an edit or delete of the bot's own message, if echoes are enabled. */
	echo(event: 'MESSAGE_UPDATE' | 'MESSAGE_DELETE', data: JsonObject): void;
}

/** Discord's longest message content. */
const MAX_CONTENT_LENGTH = 2000;
/** `GET /channels/:id/messages` default and maximum `limit`. */
const DEFAULT_MESSAGE_LIMIT = 50;
const MAX_MESSAGE_LIMIT = 100;
/** `GET /guilds/:id/members` maximum `limit`. */
const MAX_MEMBER_LIMIT = 1000;

function json(body: unknown, status = 200): LoopbackRestResponse {
	return { status, body };
}

function noContent(): LoopbackRestResponse {
	return { status: 204 };
}

/**
 * A Discord JSON error (`{ message, code }`).
 * @internal
 */
export function discordError(
	status: number,
	code: number,
	message: string,
	extra: JsonObject = {},
): LoopbackRestResponse {
	return { status, body: { message, code, ...extra } };
}

const unknownChannel = () => discordError(404, 10003, 'Unknown Channel');
const unknownMessage = () => discordError(404, 10008, 'Unknown Message');
const unknownGuild = () => discordError(404, 10004, 'Unknown Guild');

function invalidFormBody(field: string, code: string, message: string): LoopbackRestResponse {
	return discordError(400, 50035, 'Invalid Form Body', { errors: { [field]: { _errors: [{ code, message }] } } });
}

function objectList(value: JsonValue | undefined): JsonObject[] {
	return Array.isArray(value) ? value.filter((entry: JsonValue) => isJsonObject(entry)) : [];
}

function isNonEmptyList(value: JsonValue | undefined): boolean {
	return Array.isArray(value) && value.length > 0;
}

function boundedInteger(raw: string | null, fallback: number, max: number): number {
	const value = raw === null ? fallback : Number(raw);
	return Number.isSafeInteger(value) && value > 0 ? Math.min(value, max) : fallback;
}

/**
 * Registers the REST routes discord.js uses in everyday bot code (see the route table in `docs/testing.md`).
 * Generic patterns are registered before specific ones because the router prefers the route added last.
 * @internal
 */
export function registerDefaultRestRoutes(router: RestRouter, host: DefaultRestRouteHost): void {
	const { fixtures, messages } = host;

	router.add('GET', '/gateway', () => json({ url: host.gatewayUrl() }));
	router.add('GET', '/gateway/bot', () =>
		json({
			url: host.gatewayUrl(),
			shards: 1,
			// `remaining` below the shard count makes login() throw; a day's reset keeps discord.js from refetching.
			session_start_limit: { total: 1000, remaining: 999, reset_after: 86_400_000, max_concurrency: 1 },
		}),
	);

	router.add('GET', '/users/:id', ({ params }) => {
		const user = fixtures.user(params.id);
		return user === undefined ? discordError(404, 10013, 'Unknown User') : json(user);
	});
	router.add('GET', '/users/@me', () => json(fixtures.botUser));
	router.add('GET', '/applications/@me', () => json(fixtures.application));
	router.add('GET', '/oauth2/applications/@me', () => json(fixtures.application));

	router.add('GET', '/guilds/:id', ({ params }) => guildOr404(params.id));
	router.add('GET', '/guilds/:id/channels', ({ params }) => orGuild404(fixtures.guildChannels(params.id)));
	router.add('GET', '/guilds/:id/roles', ({ params }) => orGuild404(fixtures.roles(params.id)));
	router.add('GET', '/guilds/:id/members', ({ params, query }) => {
		const members = fixtures.members(params.id);
		if (members === undefined) return unknownGuild();
		return json(members.slice(0, boundedInteger(query.get('limit'), 1, MAX_MEMBER_LIMIT)));
	});
	router.add('GET', '/guilds/:id/members/:userId', ({ params }) => {
		if (!fixtures.hasGuild(params.id)) return unknownGuild();
		const member = fixtures.member(params.id, params.userId);
		return member === undefined ? discordError(404, 10007, 'Unknown Member') : json(member);
	});

	router.add('GET', '/channels/:id', ({ params }) => {
		const channel = fixtures.channel(params.id);
		return channel === undefined ? unknownChannel() : json(channel);
	});

	router.add('GET', '/channels/:id/messages', ({ params, query }) => {
		if (fixtures.channel(params.id) === undefined) return unknownChannel();
		const limit = boundedInteger(query.get('limit'), DEFAULT_MESSAGE_LIMIT, MAX_MESSAGE_LIMIT);
		const before = query.get('before');
		const after = query.get('after');
		return json(
			messages.list(params.id, {
				limit,
				...(before === null ? {} : { before }),
				...(after === null ? {} : { after }),
			}),
		);
	});

	router.add('POST', '/channels/:id/messages', ({ params, body, files }) => {
		const channelId = params.id;
		if (fixtures.channel(channelId) === undefined) return unknownChannel();
		if (!fixtures.isTextBased(channelId)) return discordError(400, 50008, 'Cannot send messages in a non-text channel');
		if (body !== null && !isJsonObject(body)) return discordError(400, 50035, 'Invalid Form Body');
		const payload: JsonObject = body ?? {};
		const content = typeof payload['content'] === 'string' ? payload['content'] : '';
		if (content.length > MAX_CONTENT_LENGTH) {
			return invalidFormBody('content', 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_CONTENT_LENGTH} or fewer in length.`);
		}
		const embeds = objectList(payload['embeds']);
		const hasOtherContent =
			files.length > 0 ||
			isNonEmptyList(payload['sticker_ids']) ||
			isNonEmptyList(payload['components']) ||
			isJsonObject(payload['poll']);
		if (content.trim() === '' && embeds.length === 0 && !hasOtherContent) {
			return discordError(400, 50006, 'Cannot send an empty message');
		}
		const attachmentMetadata = objectList(payload['attachments']);
		const attachments = files.map((file, index) => {
			const id = host.nextId();
			host.attachments.set(id, { data: file.data, contentType: file.contentType });
			const url = `${host.baseUrl()}/attachments/${channelId}/${id}/${encodeURIComponent(file.filename)}`;
			const metadata = attachmentMetadata.find((entry) => String(entry['id']) === String(index));
			const description = metadata?.['description'];
			return {
				id,
				filename: file.filename,
				size: file.data.length,
				url,
				proxy_url: url,
				content_type: file.contentType,
				...(typeof description === 'string' ? { description } : {}),
			};
		});
		const nonce = payload['nonce'];
		const flags = payload['flags'];
		const reference = payload['message_reference'];
		const message = buildMessageObject({
			id: host.nextId(),
			channelId,
			author: fixtures.botUser,
			content,
			embeds,
			attachments,
			components: objectList(payload['components']),
			tts: payload['tts'] === true,
			...(typeof flags === 'number' ? { flags } : {}),
			...(typeof nonce === 'string' || typeof nonce === 'number' ? { nonce } : {}),
			...(isJsonObject(reference) ? { messageReference: reference } : {}),
		});
		messages.set(message);
		host.recordBotMessage(message, payload, files);
		return json(message);
	});

	router.add('GET', '/channels/:id/messages/:messageId', ({ params }) => {
		if (fixtures.channel(params.id) === undefined) return unknownChannel();
		const message = messages.get(params.id, params.messageId);
		return message === undefined ? unknownMessage() : json(message);
	});

	router.add('PATCH', '/channels/:id/messages/:messageId', ({ params, body }) => {
		if (fixtures.channel(params.id) === undefined) return unknownChannel();
		const message = messages.get(params.id, params.messageId);
		if (message === undefined) return unknownMessage();
		const author = message['author'];
		if (!isJsonObject(author) || author['id'] !== fixtures.botUserId) {
			return discordError(403, 50005, 'Cannot edit a message authored by another user');
		}
		const patch: JsonObject = isJsonObject(body) ? body : {};
		const content = patch['content'];
		if (typeof content === 'string' && content.length > MAX_CONTENT_LENGTH) {
			return invalidFormBody('content', 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_CONTENT_LENGTH} or fewer in length.`);
		}
		const edited: JsonObject = {
			...message,
			...(typeof content === 'string' ? { content } : {}),
			...(Array.isArray(patch['embeds']) ? { embeds: objectList(patch['embeds']) } : {}),
			...(Array.isArray(patch['components']) ? { components: objectList(patch['components']) } : {}),
			...(typeof patch['flags'] === 'number' ? { flags: patch['flags'] } : {}),
			edited_timestamp: new Date().toISOString(),
		};
		messages.set(edited);
		host.echo('MESSAGE_UPDATE', edited);
		return json(edited);
	});

	router.add('DELETE', '/channels/:id/messages/:messageId', ({ params }) => {
		if (fixtures.channel(params.id) === undefined) return unknownChannel();
		if (!messages.delete(params.id, params.messageId)) return unknownMessage();
		host.echo('MESSAGE_DELETE', { id: params.messageId, channel_id: params.id });
		return noContent();
	});

	router.add('POST', '/channels/:id/typing', ({ params }) =>
		fixtures.channel(params.id) === undefined ? unknownChannel() : noContent(),
	);

	const reaction = ({ params }: { readonly params: { readonly id: string; readonly messageId: string } }) => {
		if (fixtures.channel(params.id) === undefined) return unknownChannel();
		return messages.get(params.id, params.messageId) === undefined ? unknownMessage() : noContent();
	};
	router.add('PUT', '/channels/:id/messages/:messageId/reactions/:emoji/@me', reaction);
	router.add('DELETE', '/channels/:id/messages/:messageId/reactions/:emoji/@me', reaction);

	registerCommandRoutes(router, host);

	router.add('GET', '/attachments/:channelId/:attachmentId/:filename', ({ params }) => {
		const attachment = host.attachments.get(params.attachmentId);
		if (attachment === undefined) return discordError(404, 0, '404: Not Found');
		return { status: 200, body: attachment.data, headers: { 'Content-Type': attachment.contentType } };
	});

	function guildOr404(guildId: string): LoopbackRestResponse {
		const guild = fixtures.guild(guildId);
		return guild === undefined ? unknownGuild() : json(guild);
	}

	function orGuild404(list: readonly JsonObject[] | undefined): LoopbackRestResponse {
		return list === undefined ? unknownGuild() : json(list);
	}
}

/** Application commands, global and per guild, stored by name as Discord does (same name, same id). */
function registerCommandRoutes(router: RestRouter, host: DefaultRestRouteHost): void {
	const { fixtures } = host;
	const scope = (guildId: string | undefined): Map<string, JsonObject> => host.commands.scope(guildId);

	/** `undefined` when the request may go on, otherwise the error to answer with. */
	const refuse = (applicationId: string, guildId: string | undefined): LoopbackRestResponse | undefined => {
		if (applicationId !== fixtures.botUserId) return discordError(404, 10002, 'Unknown Application');
		if (guildId !== undefined && !fixtures.hasGuild(guildId)) return unknownGuild();
		return undefined;
	};

	/** The stored form of a command, or `null` when it has no name. */
	const toCommand = (input: JsonValue, guildId: string | undefined): JsonObject | null => {
		if (!isJsonObject(input) || typeof input['name'] !== 'string' || input['name'] === '') return null;
		const existing = scope(guildId).get(input['name']);
		return {
			type: 1,
			description: '',
			options: [],
			default_member_permissions: null,
			nsfw: false,
			contexts: null,
			integration_types: [0],
			name_localizations: null,
			description_localizations: null,
			...input,
			id: typeof existing?.['id'] === 'string' ? existing['id'] : host.nextId(),
			application_id: fixtures.botUserId,
			...(guildId === undefined ? {} : { guild_id: guildId }),
			version: host.nextId(),
		};
	};

	const nameRequired = () => invalidFormBody('name', 'BASE_TYPE_REQUIRED', 'This field is required');

	for (const prefix of ['/applications/:applicationId', '/applications/:applicationId/guilds/:guildId'] as const) {
		const guildOf = (params: { readonly [key: string]: string | undefined }) => params['guildId'];

		router.add('GET', `${prefix}/commands`, ({ params }) => {
			const guildId = guildOf(params);
			return refuse(params.applicationId, guildId) ?? json([...scope(guildId).values()]);
		});

		router.add('PUT', `${prefix}/commands`, ({ params, body }) => {
			const guildId = guildOf(params);
			const refused = refuse(params.applicationId, guildId);
			if (refused !== undefined) return refused;
			if (!Array.isArray(body)) return discordError(400, 50035, 'Invalid Form Body');
			const commands: JsonObject[] = [];
			for (const input of body as readonly JsonValue[]) {
				const command = toCommand(input, guildId);
				if (command === null) return nameRequired();
				commands.push(command);
			}
			const stored = scope(guildId);
			stored.clear();
			for (const command of commands) stored.set(command['name'] as string, command);
			return json(commands);
		});

		router.add('POST', `${prefix}/commands`, ({ params, body }) => {
			const guildId = guildOf(params);
			const refused = refuse(params.applicationId, guildId);
			if (refused !== undefined) return refused;
			const command = toCommand(body, guildId);
			if (command === null) return nameRequired();
			const name = command['name'] as string;
			const isNew = !scope(guildId).has(name);
			scope(guildId).set(name, command);
			return json(command, isNew ? 201 : 200);
		});

		router.add('GET', `${prefix}/commands/:commandId`, ({ params }) => {
			const guildId = guildOf(params);
			const refused = refuse(params.applicationId, guildId);
			if (refused !== undefined) return refused;
			const command = [...scope(guildId).values()].find((entry) => entry['id'] === params.commandId);
			return command === undefined ? discordError(404, 10063, 'Unknown application command') : json(command);
		});

		router.add('DELETE', `${prefix}/commands/:commandId`, ({ params }) => {
			const guildId = guildOf(params);
			const refused = refuse(params.applicationId, guildId);
			if (refused !== undefined) return refused;
			const stored = scope(guildId);
			for (const [name, command] of stored) {
				if (command['id'] === params.commandId) {
					stored.delete(name);
					return noContent();
				}
			}
			return discordError(404, 10063, 'Unknown application command');
		});
	}
}
