import type { Client, MessageCreateOptions } from 'discord.js';
import {
	assertKnownKeys,
	type Cloneable,
	InvalidOptionError,
	invalidOption,
	type MessageOptions,
	type MessagePayload,
	optionKeySet,
	type RestCallOptions,
	type RestMethod,
} from '../protocol/index.js';
import type { DiscordBridge } from './host-server.js';

/** The options `ctx.discord.send()` takes; discord.js would silently drop any other key. */
const MESSAGE_OPTION_KEYS = optionKeySet<MessageOptions>({
	content: true,
	embeds: true,
	components: true,
	allowedMentions: true,
	files: true,
	flags: true,
	reply: true,
	tts: true,
});

/**
 * Discord's API names that users carry over from raw payloads, with discord.js's name. discord.js ignores the API
 * name, so `allowed_mentions: { parse: [] }` would ping everyone it mentions: refused with the right name instead.
 */
const API_NAMES: Readonly<Record<string, keyof MessageOptions>> = {
	allowed_mentions: 'allowedMentions',
	message_reference: 'reply',
};

/**
 * Checks a payload that came from a worker (so from code the compiler may not have seen) and turns it into the
 * options discord.js's `MessagePayload` takes: file bytes become Buffers, and files given any other way (a path or a
 * URL, which the main thread would read or fetch on the worker's behalf) are refused.
 * @throws {@link InvalidOptionError} naming the option and the value got.
 * @internal
 */
export function toMessageCreateOptions(payload: MessagePayload): MessageCreateOptions {
	if (typeof payload === 'string') return { content: payload };
	if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
		throw invalidOption('payload', 'a string or discord.js message options', payload);
	}
	for (const [apiName, name] of Object.entries(API_NAMES)) {
		if (Object.hasOwn(payload, apiName)) {
			throw new InvalidOptionError(
				apiName,
				`\`${apiName}\` is Discord's API name: ctx.discord.send() takes discord.js's message options, write \`${name}\``,
			);
		}
	}
	assertKnownKeys(payload, MESSAGE_OPTION_KEYS, 'ctx.discord.send()');
	const { files, ...rest } = payload;
	if (files === undefined) return rest as MessageCreateOptions;
	if (!Array.isArray(files)) throw invalidOption('files', 'an array of { attachment, name }', files);
	return {
		...(rest as MessageCreateOptions),
		files: files.map((file: unknown, index) => {
			const { attachment, name, description } = (file ?? {}) as Record<string, unknown>;
			if (!(attachment instanceof Uint8Array || attachment instanceof ArrayBuffer)) {
				throw invalidOption(
					`files[${index}].attachment`,
					'the file bytes (a Buffer, Uint8Array or ArrayBuffer): paths and URLs are not read for a worker',
					attachment,
				);
			}
			if (typeof name !== 'string' || name === '') throw invalidOption(`files[${index}].name`, 'a file name', name);
			const data =
				attachment instanceof ArrayBuffer
					? Buffer.from(attachment)
					: Buffer.from(attachment.buffer, attachment.byteOffset, attachment.byteLength);
			return { attachment: data, name, ...(typeof description === 'string' ? { description } : {}) };
		}),
	};
}

/** discord.js's `MessagePayload` class, loaded when a task first sends (discord.js is an optional peer). */
let messagePayloadClass: Promise<typeof import('discord.js').MessagePayload> | undefined;

/**
 * Discord access for workers through a discord.js client: messages are resolved by discord.js's own
 * `MessagePayload` (as `channel.send()` resolves them: the client's default `allowedMentions`, `enforceNonce`,
 * embeds, components, files) and posted with the client's REST manager (its rate limits, its token).
 * @internal
 */
export function clientBridge(client: Client): DiscordBridge {
	// What MessagePayload reads from its target when it is not a Message, Webhook or interaction: the client's
	// options, and message ids for `reply`. A target this small needs no channel fetch, and no cache.
	const target = {
		client,
		messages: { resolveId: (reference: unknown) => (typeof reference === 'string' ? reference : undefined) },
	};
	// The host server has checked the method, the route and the options; the method is still dispatched from this
	// table, never looked up on the REST client by a name a task sent.
	const calls: Record<RestMethod, (route: `/${string}`, request: object) => Promise<unknown>> = {
		get: (route, request) => client.rest.get(route, request),
		post: (route, request) => client.rest.post(route, request),
		put: (route, request) => client.rest.put(route, request),
		patch: (route, request) => client.rest.patch(route, request),
		delete: (route, request) => client.rest.delete(route, request),
	};
	return {
		async send(channelId: string, payload: MessagePayload): Promise<Cloneable> {
			const options = toMessageCreateOptions(payload);
			messagePayloadClass ??= import('discord.js').then((discord) => discord.MessagePayload);
			const MessagePayload = await messagePayloadClass;
			const { body, files } = await MessagePayload.create(target as never, options)
				.resolveBody()
				.resolveFiles();
			return (await client.rest.post(`/channels/${channelId}/messages`, {
				body,
				...(files ? { files } : {}),
			})) as Cloneable;
		},
		async rest(method: RestMethod, route: string, options: RestCallOptions): Promise<Cloneable> {
			const request = {
				...(options.body === undefined ? {} : { body: options.body }),
				...(options.query ? { query: new URLSearchParams(options.query) } : {}),
				...(options.reason ? { reason: options.reason } : {}),
				...(options.headers ? { headers: options.headers } : {}),
			};
			return (await calls[method](route as `/${string}`, request)) as Cloneable;
		},
	};
}
