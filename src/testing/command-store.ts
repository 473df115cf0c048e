import type { JsonObject } from './json-value.js';

/**
 * The application commands the bot registered, global and per guild, stored by name as Discord does (the same
 * name keeps its id). The REST routes write it; interactions are checked against it.
 * @internal
 */
export class CommandStore {
	readonly #scopes = new Map<string, Map<string, JsonObject>>();

	/** The commands of one scope (created empty on first use): global with no guild id. */
	scope(guildId: string | undefined): Map<string, JsonObject> {
		const key = guildId ?? '';
		let commands = this.#scopes.get(key);
		if (commands === undefined) {
			commands = new Map();
			this.#scopes.set(key, commands);
		}
		return commands;
	}

	/** The command a user in `guildId` would see under `name`: a guild command wins over a global one. */
	find(name: string, guildId: string | undefined): JsonObject | undefined {
		return (
			(guildId === undefined ? undefined : this.#scopes.get(guildId)?.get(name)) ?? this.#scopes.get('')?.get(name)
		);
	}
}
