import type { Cloneable } from './cloneable.js';
import type { SerializedError } from './errors.js';

/** HTTP methods `ctx.discord.rest` offers. */
export const RestMethod = { Get: 'get', Post: 'post', Put: 'put', Patch: 'patch', Delete: 'delete' } as const;
/** One of the {@link RestMethod} values. */
export type RestMethod = (typeof RestMethod)[keyof typeof RestMethod];

/** Options of a REST call from a task (a cloneable subset of @discordjs/rest's request options). */
export type RestCallOptions = {
	readonly body?: Cloneable;
	readonly query?: Readonly<Record<string, string>>;
	readonly reason?: string;
	readonly headers?: Readonly<Record<string, string>>;
};

/**
 * An embed, as discord.js's `channel.send({ embeds })` takes it without a builder: Discord's embed object (its
 * fields keep Discord's snake_case names, as in discord.js's `APIEmbed`). Build one with `new EmbedBuilder()...
 * .toJSON()` if you prefer builders: the builder itself does not cross threads.
 */
export type MessageEmbed = {
	readonly title?: string;
	readonly description?: string;
	readonly url?: string;
	/** ISO 8601 timestamp. */
	readonly timestamp?: string;
	readonly color?: number;
	readonly footer?: { readonly text: string; readonly icon_url?: string };
	readonly image?: { readonly url: string; readonly height?: number; readonly width?: number };
	readonly thumbnail?: { readonly url: string; readonly height?: number; readonly width?: number };
	readonly author?: { readonly name: string; readonly url?: string; readonly icon_url?: string };
	// A mutable array type, as discord.js's APIEmbed has it, so that an embed written here can go to discord.js as is.
	readonly fields?: { readonly name: string; readonly value: string; readonly inline?: boolean }[];
};

/** A message component as JSON (an action row, a container, ...): `new ActionRowBuilder()....toJSON()`. */
export interface MessageComponent {
	readonly type: number;
	readonly [key: string]: Cloneable;
}

/** Who a message may ping: discord.js's `MessageMentionOptions`. */
export type MessageAllowedMentions = {
	/** Mention types to parse from the content; `[]` pings nobody. */
	readonly parse?: readonly ('users' | 'roles' | 'everyone')[];
	readonly users?: readonly string[];
	readonly roles?: readonly string[];
	/** Whether a reply pings the author of the message it replies to. */
	readonly repliedUser?: boolean;
};

/** A file to upload, with its bytes (a `Buffer` arrives as a `Uint8Array`; paths and URLs are refused). */
export type MessageFile = {
	readonly attachment: Uint8Array | ArrayBuffer;
	/** The file name Discord shows; prefix `SPOILER_` to hide it. */
	readonly name: string;
	readonly description?: string;
};

/** Message flags a bot may set when sending, by discord.js name. */
export type MessageFlagName = 'SuppressEmbeds' | 'SuppressNotifications' | 'IsComponentsV2';

/**
 * What a task sends with `ctx.discord.send()`: discord.js's own message options (the part of `MessageCreateOptions`
 * that can cross threads). The main thread resolves them through discord.js, exactly as `channel.send()` does, so
 * what works there works here: `allowedMentions`, not the API's `allowed_mentions`.
 */
export type MessageOptions = {
	readonly content?: string;
	readonly embeds?: readonly MessageEmbed[];
	readonly components?: readonly MessageComponent[];
	readonly allowedMentions?: MessageAllowedMentions;
	readonly files?: readonly MessageFile[];
	/** By name (`'SuppressEmbeds'`), a list of names, or the bit field as a number. */
	readonly flags?: MessageFlagName | readonly MessageFlagName[] | number;
	/** Reply to a message of the same channel. */
	readonly reply?: { readonly messageReference: string; readonly failIfNotExists?: boolean };
	readonly tts?: boolean;
};

/**
 * A message a task sends: its content, or discord.js message options ({@link MessageOptions}). The option shapes
 * are type aliases, not interfaces, so that they stay assignable to {@link Cloneable}.
 */
export type MessagePayload = string | MessageOptions;

/** A call's result crossing back: the value, or the error serialised (so its class survives). */
export type HostResult =
	| { readonly ok: true; readonly value: Cloneable }
	| { readonly ok: false; readonly error: SerializedError };
