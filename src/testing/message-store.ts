import type { JsonObject } from './json-value.js';

/**
 * How `GET /channels/:id/messages` pages, as Discord documents it.
 * @internal
 */
export interface MessageListQuery {
	readonly limit: number;
	readonly before?: string;
	readonly after?: string;
}

function compareIds(left: string, right: string): number {
	// Snowflakes order by value, not as strings: compare lengths first.
	return left.length - right.length || (left < right ? -1 : left > right ? 1 : 0);
}

/**
 * Message history per channel: what the bot posted and what tests injected, so the bot can fetch, edit and
 * delete messages the way it would on Discord.
 * @internal
 */
export class MessageStore {
	readonly #channels = new Map<string, Map<string, JsonObject>>();

	/** Stores (or replaces) a message; it must carry `id` and `channel_id`. */
	set(message: JsonObject): void {
		const channelId = message['channel_id'] as string;
		let channel = this.#channels.get(channelId);
		if (channel === undefined) {
			channel = new Map();
			this.#channels.set(channelId, channel);
		}
		channel.set(message['id'] as string, message);
	}

	get(channelId: string, messageId: string): JsonObject | undefined {
		return this.#channels.get(channelId)?.get(messageId);
	}

	delete(channelId: string, messageId: string): boolean {
		return this.#channels.get(channelId)?.delete(messageId) ?? false;
	}

	/** Newest first, like Discord: `before`/`after` are exclusive bounds, `limit` caps the page. */
	list(channelId: string, query: MessageListQuery): JsonObject[] {
		const { before, after } = query;
		const messages = [...(this.#channels.get(channelId)?.values() ?? [])].filter((message) => {
			const id = message['id'] as string;
			return (before === undefined || compareIds(id, before) < 0) && (after === undefined || compareIds(id, after) > 0);
		});
		messages.sort((left, right) => compareIds(right['id'] as string, left['id'] as string));
		// With `after`, Discord returns the messages right after the anchor, still newest first.
		return after !== undefined && before === undefined
			? messages.slice(Math.max(0, messages.length - query.limit))
			: messages.slice(0, query.limit);
	}

	clear(): void {
		this.#channels.clear();
	}
}

/**
 * Fields of a message object; the rest get Discord's defaults.
 * @internal
 */
export interface MessageObjectFields {
	readonly id: string;
	readonly channelId: string;
	readonly author: JsonObject;
	readonly content: string;
	readonly embeds?: readonly JsonObject[];
	readonly attachments?: readonly JsonObject[];
	readonly components?: readonly JsonObject[];
	readonly mentions?: readonly JsonObject[];
	readonly tts?: boolean;
	readonly flags?: number;
	readonly nonce?: string | number;
	readonly messageReference?: JsonObject;
	readonly timestamp?: Date;
}

/**
 * A Discord message object (type 0, default reply), as REST returns it: no `guild_id` or `member`, which only the
 * gateway's MESSAGE_CREATE carries.
 * @internal
 */
export function buildMessageObject(fields: MessageObjectFields): JsonObject {
	return {
		id: fields.id,
		type: 0,
		channel_id: fields.channelId,
		author: fields.author,
		content: fields.content,
		timestamp: (fields.timestamp ?? new Date()).toISOString(),
		edited_timestamp: null,
		tts: fields.tts ?? false,
		mention_everyone: false,
		mentions: fields.mentions ?? [],
		mention_roles: [],
		attachments: fields.attachments ?? [],
		embeds: fields.embeds ?? [],
		components: fields.components ?? [],
		pinned: false,
		flags: fields.flags ?? 0,
		...(fields.nonce === undefined ? {} : { nonce: fields.nonce }),
		...(fields.messageReference === undefined ? {} : { message_reference: fields.messageReference }),
	};
}
