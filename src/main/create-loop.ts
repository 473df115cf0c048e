import { basename, extname } from 'node:path';
import type { TaskDefinition } from '../protocol/index.js';
import { describeValue, InvalidOptionError } from '../protocol/index.js';
import { inlineExecutor } from './executor.js';
import type { DiscordBridge } from './host-server.js';
import { Loop } from './loop.js';
import { type LoopOptions, resolveLoopOptions } from './loop-options.js';
import { resolveSchedule } from './schedule.js';
import type { TaskPool, TaskPoolOptions } from './task-pool.js';
import {
	checkWorkerLoopOptions,
	DEFAULT_WORKER_LOOP_OPTIONS,
	Isolation,
	resolveTaskModule,
	WORKER_LOOP_OPTION_KEYS,
	WorkerExecutor,
	type WorkerLoopOptions,
} from './worker-executor.js';

/**
 * The arguments of a task, from its module type (`typeof import('./task.js')`) or its definition type.
 */
export type TaskArgs<M> = M extends { readonly default: TaskDefinition<infer A, infer _R, infer _S> }
	? A
	: M extends TaskDefinition<infer A, infer _R, infer _S>
		? A
		: readonly unknown[];

let anonymousLoops = 0;

const WORKER_LOOPS = "worker loops (a task module as the body: loop(options, new URL('./task.js', import.meta.url)))";
/**
 * Where the options of other kinds of loop belong, so that `timeoutMs` on a main-thread loop is not called an
 * unknown option: it exists, on another kind of loop.
 */
const OPTION_OWNERS: Readonly<Record<string, string>> = {
	...Object.fromEntries([...WORKER_LOOP_OPTION_KEYS].map((key) => [key, WORKER_LOOPS])),
	discord: 'worker loops created by a LoopController with a client (tasks.loop(options, taskUrl))',
	waitUntilReady: 'loops created by a LoopController with a client (tasks.loop())',
	delivery: "loops of a LoopController with a `backend` (bullmqBackend() from 'discord-tasks/bullmq')",
	runOn: "loops of a LoopController with a `backend` (bullmqBackend() from 'discord-tasks/bullmq')",
};

/**
 * Creates a {@link Loop} that runs `body` on the main thread on the given schedule (discord.py's `@tasks.loop`).
 * Validation follows discord.py's order (C2): count, then the schedule, then the body.
 *
 * @param options - The schedule (`seconds`/`minutes`/`hours`, `time` or `cron`) and the loop's behaviour.
 * @param body - Called with the arguments given to `start()`, once per iteration; may be async.
 * @returns The loop, not started.
 * @throws {@link InvalidOptionError} naming the option and the value it got.
 *
 * @example
 * ```ts
 * import { loop } from 'discord-tasks';
 *
 * const reminder = loop({ time: ['09:00', { hour: 18, timeZone: 'Europe/Berlin' }] }, async (channelId: string) => {
 *   const channel = await client.channels.fetch(channelId);
 *   if (channel?.isSendable()) await channel.send('Stand-up time!');
 * });
 * reminder.start('123456789012345678');
 * ```
 */
export function loop<Args extends readonly unknown[]>(
	options: LoopOptions<Loop<Args>>,
	body: (...args: Args) => unknown,
): Loop<Args>;
/**
 * Creates a {@link Loop} whose body is a task module run in a worker thread: CPU-heavy work there never blocks
 * the gateway. The module's default export must be a task made with `defineTask()` from `discord-tasks/worker`.
 * Pass the module's type to type `start()`'s arguments from it.
 *
 * @param options - The schedule and loop options, plus the worker options (`pool`, `timeoutMs`, `isolation`, ...).
 * @param task - The task module: `new URL('./tasks/x.js', import.meta.url)`, a `file:` URL string or an absolute path.
 * @throws {@link TaskModuleError} if the module file does not exist.
 * @throws {@link InvalidOptionError} naming the option and the value it got.
 *
 * @example
 * ```ts
 * const board = loop<typeof import('./tasks/leaderboard.js')>(
 *   { minutes: 5, timeoutMs: 30_000 },
 *   new URL('./tasks/leaderboard.js', import.meta.url),
 * );
 * board.start('123', 10); // (guildId: string, top: number), from the task
 * ```
 */
export function loop<M = TaskDefinition<readonly unknown[]>>(
	options: LoopOptions<Loop<TaskArgs<M>>> & WorkerLoopOptions,
	task: URL | string,
): Loop<TaskArgs<M>>;
export function loop(
	options: LoopOptions<Loop<readonly unknown[]>> & WorkerLoopOptions,
	body: ((...args: readonly unknown[]) => unknown) | URL | string,
): Loop<readonly unknown[]> {
	return createLoop(options, body);
}

/** What the LoopController adds to a loop it creates. @internal */
export interface LoopInternals {
	/** Awaited before `beforeLoop` in every run, with the run's signal. */
	readonly gate?: (signal: AbortSignal) => Promise<unknown>;
	/** The pool a worker loop uses when its options name none. */
	// biome-ignore lint/suspicious/noExplicitAny: any service map
	readonly defaultPool?: () => TaskPool<any>;
	/** What a loop's own worker or process inherits when it names no pool (the controller's pool options). */
	readonly dedicatedPoolOptions?: () => TaskPoolOptions;
	/** The Discord client bridge a worker loop's tasks use (`ctx.discord`), carried with each iteration. */
	readonly discord?: () => DiscordBridge | undefined;
	/** Option names the caller handles itself. */
	readonly extraKeys?: readonly string[];
	/** Makes the loop from its parts (the cluster backend's loop); a plain {@link Loop} by default. */
	readonly construct?: (parts: ConstructorParameters<typeof Loop<readonly unknown[]>>[0]) => Loop<readonly unknown[]>;
}

/**
 * The implementation behind {@link loop} and `LoopController#loop`.
 * @internal
 */
export function createLoop(
	options: LoopOptions<Loop<readonly unknown[]>> & WorkerLoopOptions,
	body: ((...args: readonly unknown[]) => unknown) | URL | string,
	internals: LoopInternals = {},
): Loop<readonly unknown[]> {
	const isTask = body instanceof URL || typeof body === 'string';
	const extraKeys = new Set([...(isTask ? WORKER_LOOP_OPTION_KEYS : []), ...(internals.extraKeys ?? [])]);
	const resolved = resolveLoopOptions(options, extraKeys, OPTION_OWNERS);
	const schedule = resolveSchedule(options);
	let executor: WorkerExecutor<readonly unknown[]> | ReturnType<typeof inlineExecutor<readonly unknown[]>>;
	let defaultName: string;
	if (isTask) {
		checkWorkerLoopOptions(options);
		const moduleUrl = resolveTaskModule(body);
		const ownWorker = options.isolation === Isolation.Dedicated || options.isolation === Isolation.Process;
		const pool = options.pool ?? (ownWorker ? undefined : internals.defaultPool?.());
		executor = new WorkerExecutor(
			{ moduleUrl, exportName: options.exportName ?? DEFAULT_WORKER_LOOP_OPTIONS.exportName },
			pool ? { ...options, pool } : options,
			{
				...(internals.dedicatedPoolOptions ? { dedicatedPoolOptions: internals.dedicatedPoolOptions } : {}),
				...(internals.discord ? { discord: internals.discord } : {}),
			},
		);
		const file = basename(new URL(moduleUrl).pathname);
		defaultName = file.slice(0, file.length - extname(file).length) || `loop-${++anonymousLoops}`;
	} else {
		if (typeof body !== 'function') {
			throw new InvalidOptionError(
				'body',
				`The loop body must be a function, or a task module URL, got ${describeValue(body)}`,
			);
		}
		executor = inlineExecutor(body);
		defaultName = body.name || `loop-${++anonymousLoops}`;
	}
	const parts = {
		schedule,
		resolved,
		executor,
		defaultName,
		beforeLoop: options.beforeLoop,
		afterLoop: options.afterLoop,
		onError: options.onError,
		gate: internals.gate,
	};
	return internals.construct ? internals.construct(parts) : new Loop(parts);
}
