// What the snippets of README.md and docs/ use without defining it: the reader's own bot, data and helpers.
// A script (no import or export at the top level), so these are globals for every snippet.

declare const client: import('discord.js').Client;
declare const CHANNEL_ID: string;
declare const channelId: string;
declare const guildId: string;
declare const intents: import('discord.js').GatewayIntentBits[];
declare const db: { saveScores(rows: readonly string[]): Promise<void> };
declare const board: import('discord-tasks').Loop<[channelId: string, top: number]>;
declare const tasks: import('discord-tasks').LoopController;
declare const gateway: import('discord-tasks/testing').LoopbackGateway;
declare const cleanups: (() => unknown)[];
declare function rankMembers(signal: AbortSignal): string[];
declare function announce(text: string): Promise<void>;
declare function syncRoles(): Promise<void>;
declare function alertOps(error: Error): void;
declare function startBot(): Promise<{
	gateway: import('discord-tasks/testing').LoopbackGateway;
	client: import('discord.js').Client;
}>;
