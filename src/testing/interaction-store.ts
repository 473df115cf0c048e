import type { JsonObject } from './json-value.js';

/** What a test passes to {@link LoopbackGateway.injectInteraction}. */
export interface InjectInteractionOptions {
	/** The name of a command the bot registered (globally or in the channel's guild). */
	readonly commandName: string;
	/**
	 * The command's options in Discord's API format: `[{ type: 1, name: 'status', options: [{ type: 3, name: 'loop',
	 * value: 'board' }] }]` for a subcommand with a string option. Mark the option being typed `focused: true` for an
	 * autocomplete interaction.
	 * @defaultValue []
	 */
	readonly options?: readonly JsonObject[];
	/** `'autocomplete'` sends an APPLICATION_COMMAND_AUTOCOMPLETE (type 4) instead of a command (type 2). @defaultValue 'command' */
	readonly kind?: 'command' | 'autocomplete';
	/** A fixture text channel. @defaultValue the first channel */
	readonly channelId?: string;
	/** Who runs the command: the human or the bot fixture user. @defaultValue the human */
	readonly userId?: string;
	/**
	 * The member's permissions in the channel, as Discord computes them (`member.permissions`): a bitfield as a
	 * bigint or a decimal string.
	 * @defaultValue all permissions for the guild's owner (the human fixture user), the roles' permissions otherwise
	 */
	readonly permissions?: bigint | string;
}

/** An interaction the gateway dispatched, as {@link LoopbackGateway.injectInteraction} returns it. */
export interface InjectedInteraction {
	readonly id: string;
	readonly token: string;
	/** The INTERACTION_CREATE `d` that was dispatched. */
	readonly data: JsonObject;
}

/** How the bot answered an interaction. */
export type InteractionResponseKind =
	/** `POST /interactions/:id/:token/callback`: `reply()`, `deferReply()`, `respond()` (autocomplete)… */
	| 'callback'
	/** `POST /webhooks/:appId/:token`: `followUp()`. */
	| 'followUp'
	/** `PATCH /webhooks/:appId/:token/messages/:id`: `editReply()`. */
	| 'edit';

/** One answer of the bot to an interaction. */
export interface InteractionResponse {
	readonly interactionId: string;
	readonly kind: InteractionResponseKind;
	/** The callback type (4 message, 5 deferred, 8 autocomplete result…); `null` for follow-ups and edits. */
	readonly type: number | null;
	/** The callback's `data`, or the follow-up's or edit's body. */
	readonly data: JsonObject;
	/** Whether the message is ephemeral (flag 64). */
	readonly ephemeral: boolean;
	/** `content` of the message, `''` when there is none. */
	readonly content: string;
	/** `embeds` of the message, `[]` when there are none. */
	readonly embeds: readonly JsonObject[];
	/** Autocomplete choices (callback type 8), `[]` otherwise. */
	readonly choices: readonly JsonObject[];
	readonly receivedAt: Date;
}

/** What the gateway keeps of an interaction it dispatched. */
interface StoredInteraction {
	readonly id: string;
	readonly token: string;
	readonly channelId: string;
	responded: boolean;
	/** The original response's message, once there is one. */
	original: JsonObject | undefined;
}

/** Message flag EPHEMERAL. */
const EPHEMERAL = 64;

/**
 * The interactions a gateway dispatched and the answers the bot gave: read by the interaction routes and by tests.
 * @internal
 */
export class InteractionStore {
	readonly #byToken = new Map<string, StoredInteraction>();
	readonly #responses: InteractionResponse[] = [];

	/** Every answer, in arrival order. */
	get responses(): readonly InteractionResponse[] {
		return this.#responses;
	}

	/** Remembers an interaction so its callback and webhook routes can find it by token. */
	add(interaction: { readonly id: string; readonly token: string; readonly channelId: string }): void {
		this.#byToken.set(interaction.token, { ...interaction, responded: false, original: undefined });
	}

	/** The interaction with this token, if it was dispatched. */
	byToken(token: string): StoredInteraction | undefined {
		return this.#byToken.get(token);
	}

	/** Records an answer and returns it. */
	record(
		interactionId: string,
		kind: InteractionResponseKind,
		type: number | null,
		data: JsonObject,
	): InteractionResponse {
		const embeds = data['embeds'];
		const choices = data['choices'];
		const flags = data['flags'];
		const response: InteractionResponse = {
			interactionId,
			kind,
			type,
			data,
			ephemeral: typeof flags === 'number' && (flags & EPHEMERAL) !== 0,
			content: typeof data['content'] === 'string' ? data['content'] : '',
			embeds: Array.isArray(embeds) ? (embeds as JsonObject[]) : [],
			choices: Array.isArray(choices) ? (choices as JsonObject[]) : [],
			receivedAt: new Date(),
		};
		this.#responses.push(response);
		return response;
	}
}
