import {
	describeValue,
	InvalidOptionError,
	kTask,
	type RegisteredServices,
	type TaskContext,
	type TaskDefinition,
} from '../protocol/index.js';

/**
 * Defines a task body for a worker loop. Export it as the module's default export.
 *
 * @param run - Receives a {@link TaskContext} and then the arguments given to `loop.start()`; its result (if any)
 * must be structured-cloneable. It may be CPU-heavy: it runs in a worker thread.
 * @returns The task definition; argument and result types flow from it to `loop<typeof import('./task.js')>()`.
 *
 * @example
 * ```ts
 * // tasks/leaderboard.ts
 * import { defineTask } from 'discord-tasks/worker';
 * export default defineTask(async (ctx, guildId: string, top: number) => {
 *   const rows = crunch(guildId, top, ctx.signal);
 *   await ctx.discord.send(channelId, { content: render(rows) });
 *   return { rows: rows.length };
 * });
 * ```
 */
export function defineTask<Args extends readonly unknown[], Result, S = RegisteredServices>(
	run: (ctx: TaskContext<S>, ...args: Args) => Result | Promise<Result>,
): TaskDefinition<Args, Awaited<Result>, S> {
	if (typeof run !== 'function') {
		throw new InvalidOptionError('run', `\`defineTask()\` takes the task body function, got ${describeValue(run)}`);
	}
	return Object.freeze({ [kTask]: true as const, run }) as TaskDefinition<Args, Awaited<Result>, S>;
}
