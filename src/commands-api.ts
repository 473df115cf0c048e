/**
 * `discord-tasks/commands`: a `/tasks` slash command that shows and controls a LoopController's loops from Discord
 * (needs discord.js, the bot's own client).
 */
export type { TasksCommandOptions } from './commands/tasks-command.js';
export { DEFAULT_TASKS_COMMAND_OPTIONS, TasksCommand, TasksSubcommand } from './commands/tasks-command.js';
