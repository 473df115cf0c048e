import {
	type AutocompleteInteraction,
	type ChatInputCommandInteraction,
	type Client,
	EmbedBuilder,
	Events,
	type Interaction,
	InteractionContextType,
	MessageFlags,
	PermissionFlagsBits,
	type RESTPostAPIChatInputApplicationCommandsJSONBody,
	SlashCommandBuilder,
	type SlashCommandSubcommandsOnlyBuilder,
	TimestampStyles,
	time,
} from 'discord.js';
import type { LoopController, LoopStatus } from '../main/loop-controller.js';
import { assertKnownKeys, describeValue, InvalidOptionError } from '../protocol/index.js';

/** Options of {@link TasksCommand}. */
export interface TasksCommandOptions {
	/** The command's name. @defaultValue 'tasks' */
	readonly name?: string;
	/** The command's description. @defaultValue "Show and control the bot's background loops" */
	readonly description?: string;
	/**
	 * The permissions a member needs: set as the command's `default_member_permissions`, and checked again on every
	 * use (a server can override the default for a role or a channel).
	 * @defaultValue `PermissionFlagsBits.ManageGuild` (Manage Server)
	 */
	readonly permissions?: bigint;
}

/** Defaults of {@link TasksCommandOptions}. */
export const DEFAULT_TASKS_COMMAND_OPTIONS = {
	name: 'tasks',
	description: "Show and control the bot's background loops",
	permissions: PermissionFlagsBits.ManageGuild,
} as const satisfies TasksCommandOptions;

/** The subcommands of `/tasks`. */
export const TasksSubcommand = {
	List: 'list',
	Status: 'status',
	Start: 'start',
	Stop: 'stop',
	Cancel: 'cancel',
	Restart: 'restart',
} as const;
/** One of the {@link TasksSubcommand} values. */
export type TasksSubcommand = (typeof TasksSubcommand)[keyof typeof TasksSubcommand];

const OPTION_KEYS = new Set(['name', 'description', 'permissions']);
const LOOP_OPTION = 'loop';
/** Discord's limits: 25 fields per embed, 25 autocomplete choices, 1024 characters per field value. */
const MAX_FIELDS = 25;
const MAX_CHOICES = 25;
const MAX_FIELD_VALUE = 1024;

const SUBCOMMAND_DESCRIPTIONS: Record<Exclude<TasksSubcommand, 'list'>, string> = {
	status: "Show one loop's status",
	start: 'Start a loop (with the arguments of its last start)',
	stop: 'Stop a loop after its current iteration',
	cancel: 'Cancel a loop now',
	restart: 'Cancel and start a loop again, with the arguments of its last start',
};

/** Discord refuses an embed field over 1024 characters; a long list of times of day would make one. */
function shorten(text: string, max: number): string {
	return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `12 ms`, `1.5 s`, or `–` for nothing measured yet. */
function formatMs(ms: number | null): string {
	if (ms === null) return '–';
	return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A Discord timestamp that each reader sees in their own time zone and as "in 3 minutes" / "5 minutes ago". */
function relative(iso: string | null): string {
	return iso === null ? '–' : time(new Date(iso), TimestampStyles.RelativeTime);
}

function errorLine(status: LoopStatus): string {
	if (status.lastError === null || status.lastErrorAt === null) return 'none';
	const { name, message } = status.lastError;
	const recovered = status.consecutiveFailures === 0 ? ' (recovered)' : '';
	return `${name}: ${shorten(message, 200)}, ${relative(status.lastErrorAt)}${recovered}`;
}

function summary(status: LoopStatus): string {
	return [
		`**${status.state}** · ${shorten(status.schedule, 100)}${status.worker ? ' · worker' : ''}`,
		`next ${relative(status.nextIteration)} · late ${formatMs(status.lastLatenessMs)} (p99 ${formatMs(status.latenessP99Ms)})`,
		`last error: ${errorLine(status)}`,
	].join('\n');
}

function details(status: LoopStatus): EmbedBuilder {
	return new EmbedBuilder().setTitle(`Loop ${status.name}`).addFields(
		{ name: 'State', value: `${status.state}${status.running ? '' : ' (not running)'}`, inline: true },
		{ name: 'Schedule', value: shorten(status.schedule, MAX_FIELD_VALUE), inline: true },
		{ name: 'Next run', value: relative(status.nextIteration), inline: true },
		{
			name: 'Lateness',
			value: `last ${formatMs(status.lastLatenessMs)}, p99 ${formatMs(status.latenessP99Ms)}`,
			inline: true,
		},
		{ name: 'Last duration', value: formatMs(status.lastDurationMs), inline: true },
		{ name: 'Overruns / skipped', value: `${status.overruns} / ${status.skippedIterations}`, inline: true },
		{
			name: 'Attempts',
			value: `${status.attempts}: ${status.successes} ok, ${status.failures} failed, ${status.retries} retries`,
			inline: true,
		},
		{ name: 'Worker crashes / timeouts', value: `${status.workerCrashes} / ${status.timeouts}`, inline: true },
		{ name: 'Last success', value: relative(status.lastSuccessAt), inline: true },
		{ name: 'Last error', value: errorLine(status) },
	);
}

/**
 * A `/tasks` slash command that shows and controls a {@link LoopController}'s loops from Discord: `list`, `status`,
 * `start`, `stop`, `cancel` and `restart`, with loop-name autocomplete. Only members with Manage Server (or the
 * `permissions` given) may use it: the command is registered with that `default_member_permissions`, and the
 * member's permissions are checked again on every use, since a server can override the default. Every reply is
 * ephemeral. `start` and `restart` pass the arguments of the loop's last start through the controller.
 *
 * @example
 * ```ts
 * import { TasksCommand } from 'discord-tasks/commands';
 *
 * const command = new TasksCommand(tasks);
 * command.listen(client);
 * client.once('clientReady', () => client.application.commands.create(command.toJSON()));
 * ```
 */
export class TasksCommand {
	/** The command's name. */
	readonly name: string;
	readonly #controller: LoopController;
	readonly #permissions: bigint;
	readonly #builder: SlashCommandSubcommandsOnlyBuilder;

	/** @throws {@link InvalidOptionError} naming the option and the value it got. */
	constructor(controller: LoopController, options: TasksCommandOptions = {}) {
		if (typeof options !== 'object' || options === null) {
			throw new InvalidOptionError('options', `TasksCommand options must be an object, got ${describeValue(options)}`);
		}
		assertKnownKeys(options, OPTION_KEYS, 'TasksCommand');
		const {
			name = DEFAULT_TASKS_COMMAND_OPTIONS.name,
			description = DEFAULT_TASKS_COMMAND_OPTIONS.description,
			permissions = DEFAULT_TASKS_COMMAND_OPTIONS.permissions,
		} = options;
		if (typeof name !== 'string' || !/^[-_\p{L}\p{N}]{1,32}$/u.test(name) || name !== name.toLowerCase()) {
			throw new InvalidOptionError(
				'name',
				`\`name\` must be a lower-case command name of 1 to 32 letters, digits, - or _, got ${describeValue(name)}`,
			);
		}
		if (typeof description !== 'string' || description.length < 1 || description.length > 100) {
			throw new InvalidOptionError(
				'description',
				`\`description\` must be 1 to 100 characters, got ${describeValue(description)}`,
			);
		}
		if (typeof permissions !== 'bigint' || permissions < 0n) {
			throw new InvalidOptionError(
				'permissions',
				`\`permissions\` must be a permission bitfield (bigint), got ${describeValue(permissions)}`,
			);
		}
		this.name = name;
		this.#controller = controller;
		this.#permissions = permissions;
		const builder = new SlashCommandBuilder()
			.setName(name)
			.setDescription(description)
			.setDefaultMemberPermissions(permissions)
			.setContexts(InteractionContextType.Guild)
			.addSubcommand((sub) => sub.setName(TasksSubcommand.List).setDescription('List every loop with its state'));
		for (const [subcommand, text] of Object.entries(SUBCOMMAND_DESCRIPTIONS)) {
			builder.addSubcommand((sub) =>
				sub
					.setName(subcommand)
					.setDescription(text)
					.addStringOption((option) =>
						option.setName(LOOP_OPTION).setDescription('The loop').setRequired(true).setAutocomplete(true),
					),
			);
		}
		this.#builder = builder;
	}

	/** The command as Discord's API takes it: pass it to `client.application.commands.create()` or `set()`. */
	toJSON(): RESTPostAPIChatInputApplicationCommandsJSONBody {
		return this.#builder.toJSON();
	}

	/**
	 * Answers `interactionCreate` events for this command on `client`.
	 * @returns A function that removes the listener.
	 */
	listen(client: Client): () => void {
		const listener = (interaction: Interaction) => {
			// handle() answers the member even when something fails; what is left is a Discord API error.
			this.handle(interaction).catch((error: unknown) => client.emit(Events.Error, error as Error));
		};
		client.on(Events.InteractionCreate, listener);
		return () => client.off(Events.InteractionCreate, listener);
	}

	/**
	 * Answers an interaction if it is this command (or its autocomplete).
	 * @returns Whether the interaction was this command's.
	 */
	async handle(interaction: Interaction): Promise<boolean> {
		if (interaction.isAutocomplete() && interaction.commandName === this.name) {
			await this.#autocomplete(interaction);
			return true;
		}
		if (!interaction.isChatInputCommand() || interaction.commandName !== this.name) return false;
		if (!this.#isAllowed(interaction)) {
			await interaction.reply({
				content: 'You need the Manage Server permission to use this command.',
				flags: MessageFlags.Ephemeral,
			});
			return true;
		}
		await interaction.reply({ ...this.#answer(interaction), flags: MessageFlags.Ephemeral });
		return true;
	}

	/** The member's permissions in this channel, as Discord computed them; none outside a server. */
	#isAllowed(interaction: ChatInputCommandInteraction | AutocompleteInteraction): boolean {
		return interaction.inGuild() && interaction.memberPermissions.has(this.#permissions);
	}

	async #autocomplete(interaction: AutocompleteInteraction): Promise<void> {
		// Loop names are the bot's internals: a member who may not run the command does not see them either.
		if (!this.#isAllowed(interaction)) return interaction.respond([]);
		const typed = interaction.options.getFocused().toLowerCase();
		const names = this.#controller
			.list()
			.map((loop) => loop.name)
			.filter((name) => name.toLowerCase().includes(typed));
		await interaction.respond(names.slice(0, MAX_CHOICES).map((name) => ({ name, value: name })));
	}

	#answer(interaction: ChatInputCommandInteraction): { content?: string; embeds?: EmbedBuilder[] } {
		const subcommand = interaction.options.getSubcommand(true) as TasksSubcommand;
		const tasks = this.#controller;
		if (subcommand === TasksSubcommand.List) {
			const all = tasks.status();
			if (all.length === 0) return { content: 'No loops.' };
			const embed = new EmbedBuilder()
				.setTitle('Loops')
				.addFields(all.slice(0, MAX_FIELDS).map((status) => ({ name: status.name, value: summary(status) })));
			if (all.length > MAX_FIELDS) embed.setFooter({ text: `${all.length - MAX_FIELDS} more not shown` });
			return { embeds: [embed] };
		}
		const name = interaction.options.getString(LOOP_OPTION, true);
		const loop = tasks.get(name);
		if (loop === undefined) return { content: `No loop named \`${name}\`.` };
		try {
			switch (subcommand) {
				case TasksSubcommand.Status:
					return { embeds: [details(tasks.status().find((status) => status.name === name) as LoopStatus)] };
				case TasksSubcommand.Start:
					if (loop.isRunning()) return { content: `\`${name}\` is already running.` };
					void tasks.start(name, ...tasks.lastArgs(name));
					return { content: `Started \`${name}\`.` };
				case TasksSubcommand.Stop:
					if (!loop.isRunning()) return { content: `\`${name}\` is not running.` };
					tasks.stop(name);
					return { content: `\`${name}\` stops after its current iteration.` };
				case TasksSubcommand.Cancel:
					if (!loop.isRunning()) return { content: `\`${name}\` is not running.` };
					tasks.cancel(name);
					return { content: `Cancelled \`${name}\`.` };
				case TasksSubcommand.Restart:
					// A loop that is not running has nothing to cancel: restarting it is starting it.
					if (loop.isRunning()) void tasks.restart(name, ...tasks.lastArgs(name));
					else void tasks.start(name, ...tasks.lastArgs(name));
					return { content: `Restarted \`${name}\`.` };
			}
		} catch (error) {
			// The loop refused (closed controller, bad arguments): say so to the member instead of failing silently.
			return { content: `\`${name}\`: ${error instanceof Error ? error.message : String(error)}` };
		}
	}
}
