import type { CommandStore } from './command-store.js';
import type { GatewayFixtures } from './gateway-fixtures.js';
import type { InjectInteractionOptions } from './interaction-store.js';
import { invalidOption } from './invalid-option.js';
import { isJsonObject, type JsonObject } from './json-value.js';

/** Every permission bit Discord defines today and then some: what it reports for an owner or an administrator. */
const ALL_PERMISSIONS = (1n << 53n) - 1n;
/** VIEW_CHANNEL | SEND_MESSAGES | ADD_REACTIONS | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY, as `@everyone` has. */
const EVERYONE_PERMISSIONS = (1n << 10n) | (1n << 11n) | (1n << 6n) | (1n << 14n) | (1n << 15n) | (1n << 16n);
/** Interaction types: APPLICATION_COMMAND and APPLICATION_COMMAND_AUTOCOMPLETE. */
const APPLICATION_COMMAND = 2;
const AUTOCOMPLETE = 4;

function permissionsString(value: bigint | string | undefined, fallback: bigint): string {
	if (value === undefined) return fallback.toString();
	if (typeof value === 'bigint' && value >= 0n) return value.toString();
	if (typeof value === 'string' && /^\d+$/.test(value)) return value;
	throw invalidOption('options.permissions', 'a permission bitfield (a bigint >= 0 or a decimal string)', value);
}

/**
 * Builds the `d` of an INTERACTION_CREATE the way Discord sends it for a slash command (or its autocomplete) run
 * in a guild text channel, with the fields discord.js reads: the command's id and name, the options, the channel,
 * the member with its computed `permissions`, the bot's `app_permissions`.
 * @throws {@link InvalidOptionError} for an unregistered command, an unknown channel or user, or bad options.
 * @internal
 */
export function buildInteraction(
	options: InjectInteractionOptions,
	context: {
		readonly fixtures: GatewayFixtures;
		readonly commands: CommandStore;
		readonly id: string;
		readonly token: string;
		readonly defaultChannelId: string;
	},
): JsonObject {
	const { fixtures, commands, id, token } = context;
	if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
	const {
		commandName,
		channelId = context.defaultChannelId,
		userId = fixtures.humanUserId,
		kind = 'command',
	} = options;
	const guildId = fixtures.channelGuildId(channelId);
	if (guildId === undefined || !fixtures.isTextBased(channelId)) {
		throw invalidOption('options.channelId', 'the id of a fixture text channel', channelId);
	}
	if (typeof commandName !== 'string') throw invalidOption('options.commandName', 'a string', commandName);
	const command = commands.find(commandName, guildId);
	if (command === undefined) {
		throw invalidOption(
			'options.commandName',
			`the name of a command the bot registered (globally or in guild ${guildId})`,
			commandName,
		);
	}
	const member = fixtures.member(guildId, userId);
	if (member === undefined)
		throw invalidOption('options.userId', 'the id of the bot or the human fixture user', userId);
	if (kind !== 'command' && kind !== 'autocomplete')
		throw invalidOption('options.kind', "'command' or 'autocomplete'", kind);
	const commandOptions = options.options ?? [];
	if (!Array.isArray(commandOptions) || !commandOptions.every((option) => isJsonObject(option))) {
		throw invalidOption('options.options', 'an array of command option objects', commandOptions);
	}
	// Discord computes the member's permissions in the channel: the owner and administrators get every bit.
	const guild = fixtures.guild(guildId);
	const isOwner = guild?.['owner_id'] === userId;
	const permissions = permissionsString(
		options.permissions,
		isOwner || userId === fixtures.botUserId ? ALL_PERMISSIONS : EVERYONE_PERMISSIONS,
	);
	return {
		id,
		application_id: fixtures.botUserId,
		type: kind === 'autocomplete' ? AUTOCOMPLETE : APPLICATION_COMMAND,
		token,
		version: 1,
		data: {
			id: command['id'] as string,
			name: commandName,
			type: 1,
			options: commandOptions,
			...(command['guild_id'] === undefined ? {} : { guild_id: command['guild_id'] }),
		},
		guild_id: guildId,
		guild: { id: guildId, locale: 'en-US', features: [] },
		channel_id: channelId,
		channel: fixtures.channel(channelId) ?? {},
		member: { ...member, permissions },
		app_permissions: ALL_PERMISSIONS.toString(),
		locale: 'en-US',
		guild_locale: 'en-US',
		entitlements: [],
		authorizing_integration_owners: { '0': guildId },
		context: 0,
		attachment_size_limit: 8 * 1024 * 1024,
	};
}
