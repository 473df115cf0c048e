import type { Cloneable } from './cloneable.js';
import type { MessagePayload, RestCallOptions } from './host-api.js';

/** The brand of a task made by `defineTask()` (`Symbol.for`, so copies of the package agree). @internal */
export const kTask: unique symbol = Symbol.for('discord-tasks.task') as never;

/** Functions the main thread offers to tasks (`new TaskPool({ services })`). */
// biome-ignore lint/suspicious/noExplicitAny: service parameters are checked by the user's own signatures
export type ServiceMap = { readonly [name: string]: (...args: any[]) => unknown };

/**
 * The services every task sees by default, for projects that declare them once:
 * ```ts
 * declare module 'discord-tasks/worker' {
 *   interface RegisteredServices { saveScores(rows: Row[]): Promise<void> }
 * }
 * ```
 * Without it, annotate the context instead: `defineTask(async (ctx: TaskContext<typeof services>, ...) => ...)`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: an augmentation point
export interface RegisteredServices {}

/** The services as a task calls them: every call goes to the main thread and returns a promise. */
export type RemoteServices<S> = {
	readonly [K in keyof S]: S[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** The Discord access a task has, proxied to the main thread's discord.js client (the worker never holds the token). */
export interface TaskDiscord {
	/**
	 * Sends a message to a channel, with what `channel.send()` takes: a string or discord.js message options
	 * ({@link MessageOptions}: `allowedMentions`, not the API's `allowed_mentions`). Resolves with the created
	 * message as Discord's JSON (`id`, `channel_id`, `content`, ...).
	 */
	send(channelId: string, payload: MessagePayload): Promise<Cloneable>;
	/** REST calls through the client's REST manager, sharing its rate limits. `route` like `/channels/123/messages`. */
	readonly rest: {
		get(route: string, options?: RestCallOptions): Promise<Cloneable>;
		post(route: string, options?: RestCallOptions): Promise<Cloneable>;
		put(route: string, options?: RestCallOptions): Promise<Cloneable>;
		patch(route: string, options?: RestCallOptions): Promise<Cloneable>;
		delete(route: string, options?: RestCallOptions): Promise<Cloneable>;
	};
}

/** What a task body receives first, before the loop's arguments. */
export interface TaskContext<S = RegisteredServices> {
	/** Aborts on `loop.cancel()` and at the iteration's `timeoutMs`: pass it on, or check it in long computations. */
	readonly signal: AbortSignal;
	/** The loop's `currentLoop` for this iteration. */
	readonly iteration: number;
	/** The loop's name. */
	readonly loopName: string;
	/** The main thread's services, typed from `S`. */
	readonly host: RemoteServices<S>;
	/** Discord through the main thread's client. */
	readonly discord: TaskDiscord;
}

/** A task: what a task module exports (by default as its default export). Made by {@link defineTask}. */
export interface TaskDefinition<Args extends readonly unknown[] = never[], Result = unknown, S = RegisteredServices> {
	readonly [kTask]: true;
	/** The body. */
	readonly run: (ctx: TaskContext<S>, ...args: Args) => Result | Promise<Result>;
}

/**
 * Whether `value` is a task made by `defineTask()` (by a `Symbol.for` brand, so copies of the package agree).
 * @internal
 */
export function isTaskDefinition(value: unknown): value is TaskDefinition<unknown[], unknown, ServiceMap> {
	return (
		typeof value === 'object' &&
		value !== null &&
		(value as Record<symbol, unknown>)[kTask] === true &&
		typeof (value as { run?: unknown }).run === 'function'
	);
}
