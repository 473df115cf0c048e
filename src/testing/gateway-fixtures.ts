import { invalidOption, isSnowflake } from './invalid-option.js';
import type { JsonObject } from './json-value.js';
import type { SnowflakeGenerator } from './snowflake-generator.js';

/** A user of the fixture (the bot, or the human who talks to it). */
export interface UserFixtureOptions {
	/** @defaultValue {@link DEFAULT_FIXTURE_IDS}`.botUser` / `.humanUser` */
	readonly id?: string;
	/** @defaultValue `'loopback-bot'` / `'loopback-human'` */
	readonly username?: string;
}

/** A guild the bot is in. Every guild is listed in READY and gets a GUILD_CREATE. */
export interface GuildFixtureOptions {
	/** @defaultValue {@link DEFAULT_FIXTURE_IDS}`.guild` for the first guild, a generated snowflake for the others */
	readonly id?: string;
	/** @defaultValue `'Loopback Guild'` (numbered after the first) */
	readonly name?: string;
}

/** A guild channel. */
export interface ChannelFixtureOptions {
	/** @defaultValue {@link DEFAULT_FIXTURE_IDS}`.channel` for the first channel, a generated snowflake for the others */
	readonly id?: string;
	/** @defaultValue `'general'` (numbered after the first) */
	readonly name?: string;
	/** The guild it belongs to; must be one of the fixture guilds. @defaultValue the first guild */
	readonly guildId?: string;
	/** Discord channel type: 0 text, 2 voice, 4 category, 5 announcement, 15 forum... @defaultValue `0` */
	readonly type?: number;
	/** @defaultValue `null` */
	readonly topic?: string | null;
}

/** The world the loopback gateway presents to the bot: who it is and which guilds and channels it sees. */
export interface GatewayFixturesOptions {
	/** The bot's user; the application has the same id, as for every bot created since 2016. */
	readonly botUser?: UserFixtureOptions;
	/** The human member who owns the guilds and who {@link LoopbackGateway.injectMessage} writes as by default. */
	readonly humanUser?: UserFixtureOptions;
	/** The guilds. An empty list gives a bot in no guild. @defaultValue one guild, `'Loopback Guild'` */
	readonly guilds?: readonly GuildFixtureOptions[];
	/** The channels, replacing the default ones. @defaultValue one text channel `'general'` per guild */
	readonly channels?: readonly ChannelFixtureOptions[];
}

/** Ids of the default fixtures: fixed, so tests and snapshots can name them. */
export const DEFAULT_FIXTURE_IDS = {
	/** The bot user and its application. */
	botUser: '1300000000000000001',
	humanUser: '1300000000000000002',
	guild: '1300000000000000010',
	channel: '1300000000000000011',
	/** The managed role Discord gives a bot on join; it carries ADMINISTRATOR here. */
	botRole: '1300000000000000012',
} as const;

/** ADMINISTRATOR: the bot role has every permission, so `permissionsFor` checks never get in a test's way. */
const ADMINISTRATOR = 1n << 3n;
/** VIEW_CHANNEL | SEND_MESSAGES | ADD_REACTIONS | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY. */
const EVERYONE_PERMISSIONS = (1n << 10n) | (1n << 11n) | (1n << 6n) | (1n << 14n) | (1n << 15n) | (1n << 16n);

/**
 * Channel types a message can be posted in (text, DM, voice, group DM, announcement, threads, stage).
 * @internal
 */
export const TEXT_BASED_CHANNEL_TYPES: ReadonlySet<number> = new Set([0, 1, 2, 3, 5, 10, 11, 12, 13]);

interface GuildRecord {
	readonly id: string;
	readonly name: string;
	readonly botRoleId: string;
	readonly joinedAt: string;
	readonly channelIds: string[];
}

interface ChannelRecord {
	readonly id: string;
	readonly guildId: string;
	readonly name: string;
	readonly type: number;
	readonly topic: string | null;
	readonly position: number;
}

function checkName(value: unknown, name: string): string | undefined {
	if (value === undefined) return undefined;
	if (typeof value !== 'string' || value.length === 0 || value.length > 100) {
		throw invalidOption(name, 'a string of 1 to 100 characters', value, 'option');
	}
	return value;
}

function checkId(value: unknown, name: string, taken: Set<string>): string | undefined {
	if (value === undefined) return undefined;
	if (!isSnowflake(value)) throw invalidOption(name, 'a snowflake (a string of 1 to 20 digits)', value, 'option');
	if (taken.has(value)) throw invalidOption(name, 'an id no other fixture uses', value, 'option');
	return value;
}

function checkList<T>(value: readonly T[] | undefined, name: string): readonly T[] | undefined {
	if (value === undefined) return undefined;
	if (!Array.isArray(value)) throw invalidOption(name, 'an array', value, 'option');
	for (const [index, entry] of value.entries()) {
		if (typeof entry !== 'object' || entry === null) {
			throw invalidOption(`${name}[${index}]`, 'an object', entry, 'option');
		}
	}
	return value;
}

/**
 * The users, application, guilds, roles, members and channels the loopback gateway serves, and the payloads
 * built from them (READY guild stubs, GUILD_CREATE, REST objects). Built once from
 * {@link GatewayFixturesOptions}; ids that are not given are generated.
 *
 * The shapes follow Discord API v10 closely enough for discord.js to cache them fully: `guild.members.me`,
 * roles and `permissionsFor` all work.
 */
export class GatewayFixtures {
	/** The bot's user object. */
	readonly botUser: JsonObject;
	/** The human user's object. */
	readonly humanUser: JsonObject;
	readonly #guilds = new Map<string, GuildRecord>();
	readonly #channels = new Map<string, ChannelRecord>();

	/**
	 * Built by {@link LoopbackGateway} from its options; tests read it through `gateway.fixtures`.
	 * @param options - What to build; see {@link GatewayFixturesOptions}.
	 * @param ids - Where generated ids come from.
	 * @throws {@link InvalidOptionError} naming the option (`guilds[1].id`) and the refused value.
	 */
	constructor(options: GatewayFixturesOptions, ids: SnowflakeGenerator) {
		const taken = new Set<string>();
		const take = (id: string): string => {
			taken.add(id);
			return id;
		};
		const botId = take(checkId(options.botUser?.id, 'botUser.id', taken) ?? DEFAULT_FIXTURE_IDS.botUser);
		const humanId = take(checkId(options.humanUser?.id, 'humanUser.id', taken) ?? DEFAULT_FIXTURE_IDS.humanUser);
		this.botUser = {
			id: botId,
			username: checkName(options.botUser?.username, 'botUser.username') ?? 'loopback-bot',
			discriminator: '0000',
			global_name: null,
			avatar: null,
			bot: true,
			system: false,
			verified: true,
			mfa_enabled: false,
			flags: 0,
			public_flags: 0,
		};
		const humanName = checkName(options.humanUser?.username, 'humanUser.username') ?? 'loopback-human';
		this.humanUser = {
			id: humanId,
			username: humanName,
			discriminator: '0',
			global_name: humanName,
			avatar: null,
			public_flags: 0,
		};

		const joinedAt = new Date().toISOString();
		const guildOptions = checkList(options.guilds, 'guilds') ?? [{}];
		for (const [index, guild] of guildOptions.entries()) {
			const fallbackId = index === 0 && !taken.has(DEFAULT_FIXTURE_IDS.guild) ? DEFAULT_FIXTURE_IDS.guild : ids.next();
			const id = take(checkId(guild.id, `guilds[${index}].id`, taken) ?? fallbackId);
			const botRoleId = take(
				index === 0 && !taken.has(DEFAULT_FIXTURE_IDS.botRole) ? DEFAULT_FIXTURE_IDS.botRole : ids.next(),
			);
			const name =
				checkName(guild.name, `guilds[${index}].name`) ??
				(index === 0 ? 'Loopback Guild' : `Loopback Guild ${index + 1}`);
			this.#guilds.set(id, { id, name, botRoleId, joinedAt, channelIds: [] });
		}

		const firstGuild = this.#guilds.values().next().value;
		const channelOptions: readonly ChannelFixtureOptions[] =
			checkList(options.channels, 'channels') ?? [...this.#guilds.keys()].map((guildId) => ({ guildId }));
		for (const [index, channel] of channelOptions.entries()) {
			const path = `channels[${index}]`;
			const guildId = channel.guildId ?? firstGuild?.id;
			const guild = guildId === undefined ? undefined : this.#guilds.get(guildId);
			if (guild === undefined) {
				throw invalidOption(`${path}.guildId`, 'the id of one of the fixture guilds', channel.guildId, 'option');
			}
			const type = channel.type ?? 0;
			if (!Number.isSafeInteger(type) || type < 0) {
				throw invalidOption(`${path}.type`, 'a Discord channel type (a non-negative integer)', type, 'option');
			}
			const topic = channel.topic ?? null;
			if (topic !== null && typeof topic !== 'string') {
				throw invalidOption(`${path}.topic`, 'a string or null', topic, 'option');
			}
			const fallbackId =
				this.#channels.size === 0 && !taken.has(DEFAULT_FIXTURE_IDS.channel) ? DEFAULT_FIXTURE_IDS.channel : ids.next();
			const id = take(checkId(channel.id, `${path}.id`, taken) ?? fallbackId);
			const position = guild.channelIds.length;
			const name = checkName(channel.name, `${path}.name`) ?? (position === 0 ? 'general' : `general-${position + 1}`);
			guild.channelIds.push(id);
			this.#channels.set(id, { id, guildId: guild.id, name, type, topic, position });
		}
	}

	/** The application, as `GET /applications/@me` returns it. */
	get application(): JsonObject {
		return {
			id: this.botUser['id'] ?? null,
			name: this.botUser['username'] ?? null,
			icon: null,
			description: '',
			summary: '',
			type: null,
			bot_public: true,
			bot_require_code_grant: false,
			verify_key: '0'.repeat(64),
			flags: 0,
			team: null,
			owner: this.humanUser,
			bot: this.botUser,
			approximate_guild_count: this.#guilds.size,
		};
	}

	/** The bot user's id (also the application id). */
	get botUserId(): string {
		return this.botUser['id'] as string;
	}

	/** The human user's id. */
	get humanUserId(): string {
		return this.humanUser['id'] as string;
	}

	/** Every guild id, in fixture order. */
	get guildIds(): readonly string[] {
		return [...this.#guilds.keys()];
	}

	/** The first guild's id, or `undefined` when the bot is in no guild. */
	get defaultGuildId(): string | undefined {
		return this.#guilds.keys().next().value;
	}

	/** The first text channel of the first guild (or its first channel of any type), if there is one. */
	get defaultChannelId(): string | undefined {
		const guildId = this.defaultGuildId;
		if (guildId === undefined) return undefined;
		const channelIds = this.#guilds.get(guildId)?.channelIds ?? [];
		return channelIds.find((id) => this.#channels.get(id)?.type === 0) ?? channelIds[0];
	}

	/** Whether `guildId` is a fixture guild. */
	hasGuild(guildId: string): boolean {
		return this.#guilds.has(guildId);
	}

	/** The guild a channel belongs to, or `undefined` for an unknown channel. */
	channelGuildId(channelId: string): string | undefined {
		return this.#channels.get(channelId)?.guildId;
	}

	/** Whether messages can be posted in the channel. */
	isTextBased(channelId: string): boolean {
		const channel = this.#channels.get(channelId);
		return channel !== undefined && TEXT_BASED_CHANNEL_TYPES.has(channel.type);
	}

	/** A user by id (the bot or the human). */
	user(userId: string): JsonObject | undefined {
		if (userId === this.botUserId) return this.botUser;
		if (userId === this.humanUserId) return this.humanUser;
		return undefined;
	}

	/** A channel as `GET /channels/:id` returns it (with `guild_id`). */
	channel(channelId: string): JsonObject | undefined {
		const channel = this.#channels.get(channelId);
		return channel === undefined ? undefined : { ...this.#channelObject(channel), guild_id: channel.guildId };
	}

	/** A guild's channels as `GET /guilds/:id/channels` returns them. */
	guildChannels(guildId: string): JsonObject[] | undefined {
		return this.#guilds.get(guildId)?.channelIds.map((id) => this.channel(id) ?? {});
	}

	/** A guild's roles: `@everyone` (same id as the guild) and the bot's managed role with ADMINISTRATOR. */
	roles(guildId: string): JsonObject[] | undefined {
		const guild = this.#guilds.get(guildId);
		if (guild === undefined) return undefined;
		const role = (id: string, name: string, position: number, permissions: bigint) => ({
			id,
			name,
			color: 0,
			colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
			hoist: false,
			icon: null,
			unicode_emoji: null,
			position,
			permissions: permissions.toString(),
			managed: false,
			mentionable: false,
			flags: 0,
		});
		return [
			role(guild.id, '@everyone', 0, EVERYONE_PERMISSIONS),
			{
				...role(guild.botRoleId, this.botUser['username'] as string, 1, ADMINISTRATOR | EVERYONE_PERMISSIONS),
				managed: true,
				tags: { bot_id: this.botUserId },
			},
		];
	}

	/**
	 * A guild member. `withUser: false` gives the partial member Discord puts in MESSAGE_CREATE (no `user`).
	 * Every fixture guild has exactly two members: the bot and the human.
	 */
	member(guildId: string, userId: string, withUser = true): JsonObject | undefined {
		const guild = this.#guilds.get(guildId);
		const user = this.user(userId);
		if (guild === undefined || user === undefined) return undefined;
		const member: JsonObject = {
			nick: null,
			avatar: null,
			banner: null,
			roles: userId === this.botUserId ? [guild.botRoleId] : [],
			joined_at: guild.joinedAt,
			premium_since: null,
			deaf: false,
			mute: false,
			flags: 0,
			pending: false,
			communication_disabled_until: null,
		};
		return withUser ? { ...member, user } : member;
	}

	/** Every member of a guild, with `user`. */
	members(guildId: string): JsonObject[] | undefined {
		if (!this.#guilds.has(guildId)) return undefined;
		return [this.botUserId, this.humanUserId].map((userId) => this.member(guildId, userId) ?? {});
	}

	/** A guild as `GET /guilds/:id` returns it. */
	guild(guildId: string): JsonObject | undefined {
		const guild = this.#guilds.get(guildId);
		if (guild === undefined) return undefined;
		return {
			id: guild.id,
			name: guild.name,
			icon: null,
			splash: null,
			discovery_splash: null,
			banner: null,
			description: null,
			owner_id: this.humanUserId,
			region: 'deprecated',
			afk_channel_id: null,
			afk_timeout: 300,
			widget_enabled: false,
			verification_level: 0,
			default_message_notifications: 0,
			explicit_content_filter: 0,
			roles: this.roles(guild.id) ?? [],
			emojis: [],
			stickers: [],
			features: [],
			mfa_level: 0,
			application_id: null,
			system_channel_id: guild.channelIds[0] ?? null,
			system_channel_flags: 0,
			rules_channel_id: null,
			public_updates_channel_id: null,
			safety_alerts_channel_id: null,
			max_members: 500_000,
			max_video_channel_users: 25,
			vanity_url_code: null,
			premium_tier: 0,
			premium_subscription_count: 0,
			premium_progress_bar_enabled: false,
			preferred_locale: 'en-US',
			nsfw_level: 0,
			incidents_data: null,
		};
	}

	/** The GUILD_CREATE dispatch data for a guild: the guild plus channels, members and the gateway-only fields. */
	guildCreate(guildId: string): JsonObject | undefined {
		const guild = this.#guilds.get(guildId);
		const base = this.guild(guildId);
		if (guild === undefined || base === undefined) return undefined;
		const members = this.members(guildId) ?? [];
		return {
			...base,
			joined_at: guild.joinedAt,
			large: false,
			unavailable: false,
			member_count: members.length,
			members,
			// Discord leaves `guild_id` out of channels inside GUILD_CREATE; discord.js takes it from the guild.
			channels: guild.channelIds.flatMap((id) => {
				const channel = this.#channels.get(id);
				return channel === undefined ? [] : [this.#channelObject(channel)];
			}),
			threads: [],
			presences: [],
			voice_states: [],
			stage_instances: [],
			guild_scheduled_events: [],
			soundboard_sounds: [],
			embedded_activities: [],
		};
	}

	#channelObject(channel: ChannelRecord): JsonObject {
		return {
			id: channel.id,
			type: channel.type,
			name: channel.name,
			position: channel.position,
			permission_overwrites: [],
			parent_id: null,
			topic: channel.topic,
			nsfw: false,
			last_message_id: null,
			rate_limit_per_user: 0,
			flags: 0,
		};
	}
}
