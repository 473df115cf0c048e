import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import {
	assertTimerMs,
	type Cloneable,
	describeUncloneable,
	describeValue,
	ErrorCode,
	InvalidOptionError,
	LoopStateError,
	optionKeySet,
	PROTOCOL_VERSION,
	TaskModuleError,
	type TaskRef,
} from '../protocol/index.js';
import { acquireDefaultPool, releaseDefaultPool } from './default-pool.js';
import type { Executor, Invocation } from './executor.js';
import type { DiscordAllowlist } from './host-api-impl.js';
import { assertTaskPoolOptions, TaskPool, type TaskPoolOptions } from './task-pool.js';

/** How a worker loop's iterations are isolated from other loops. */
export const Isolation = {
	/** Iterations run in the shared pool (the loop's `pool`, else the default pool). */
	Shared: 'shared',
	/** The loop gets a worker of its own, with its own `resourceLimits`: a leak or crash cannot touch other loops. */
	Dedicated: 'dedicated',
} as const;
/** One of the {@link Isolation} values. */
export type Isolation = (typeof Isolation)[keyof typeof Isolation];

/** Options of loops whose body is a task module run in a worker. */
export interface WorkerLoopOptions {
	/** The pool to run in. @defaultValue a default pool, created on first use and closed with the last loop */
	// biome-ignore lint/suspicious/noExplicitAny: any service map
	readonly pool?: TaskPool<any>;
	/**
	 * Abort an iteration after this many ms: `ctx.signal` aborts, and after the pool's grace period the worker is
	 * terminated even if the body never yields. The loop sees a `TaskTimeoutError` (retried by default). 0 = none.
	 * Counted from the iteration's submission to the pool: time spent waiting for a free worker counts.
	 * @defaultValue 0
	 */
	readonly timeoutMs?: number;
	/** @defaultValue 'shared' */
	readonly isolation?: Isolation;
	/** Heap/stack caps of the loop's own worker (`isolation: 'dedicated'` only). */
	readonly resourceLimits?: ResourceLimits;
	/** How long a cancelled or timed-out body of the loop's own worker may take to stop (`isolation: 'dedicated'` only; a shared pool has its own). @defaultValue 1000 */
	readonly graceMs?: number;
	/** The module export that holds the task. @defaultValue 'default' */
	readonly exportName?: string;
	/** What the task may do through `ctx.discord` (when the loop belongs to a LoopController with a client). */
	readonly discord?: DiscordAllowlist;
}

/** Defaults of {@link WorkerLoopOptions}. */
export const DEFAULT_WORKER_LOOP_OPTIONS = {
	timeoutMs: 0,
	isolation: Isolation.Shared,
	exportName: 'default',
} as const satisfies WorkerLoopOptions;

/** Option names of {@link WorkerLoopOptions}. @internal */
export const WORKER_LOOP_OPTION_KEYS: ReadonlySet<string> = optionKeySet<WorkerLoopOptions>({
	pool: true,
	timeoutMs: true,
	isolation: true,
	resourceLimits: true,
	graceMs: true,
	exportName: true,
	discord: true,
});

/**
 * Turns `new URL('./task.js', import.meta.url)`, a `file:` URL string or an absolute path into a module URL, and
 * checks the file exists, so a typo fails at `loop()` rather than at the first iteration.
 * @throws {@link TaskModuleError} (`ERR_TASK_MODULE_NOT_FOUND`), {@link InvalidOptionError}
 */
export function resolveTaskModule(task: URL | string): string {
	let url: URL;
	if (task instanceof URL) url = task;
	else if (typeof task === 'string' && /^[a-z][a-z0-9+.-]*:/i.test(task) && !/^[a-z]:[\\/]/i.test(task))
		url = new URL(task);
	else if (typeof task === 'string' && isAbsolute(task)) url = pathToFileURL(task);
	else {
		throw new InvalidOptionError(
			'task',
			`A task module must be given as a URL (new URL('./task.js', import.meta.url)) or an absolute path (in CommonJS: path.join(__dirname, 'task.js')), got ${describeValue(task)}`,
		);
	}
	if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) {
		throw new TaskModuleError(`Task module ${url.href} does not exist`, {
			moduleUrl: url.href,
			code: ErrorCode.TaskModuleNotFound,
		});
	}
	return url.href;
}

/**
 * Validates the worker options of a loop.
 * @throws {@link InvalidOptionError}
 */
export function checkWorkerLoopOptions(options: WorkerLoopOptions): void {
	const { timeoutMs, isolation, pool, exportName } = options;
	assertTimerMs(timeoutMs, 'timeoutMs');
	if (isolation !== undefined && isolation !== Isolation.Shared && isolation !== Isolation.Dedicated) {
		throw new InvalidOptionError(
			'isolation',
			`\`isolation\` must be 'shared' or 'dedicated', got ${describeValue(isolation)}`,
		);
	}
	if (pool !== undefined && !(pool instanceof TaskPool)) {
		throw new InvalidOptionError('pool', `\`pool\` must be a TaskPool, got ${describeValue(pool)}`);
	}
	if (pool !== undefined && isolation === Isolation.Dedicated) {
		throw new InvalidOptionError(
			'pool',
			"`pool` cannot be combined with `isolation: 'dedicated'` (the loop gets a worker of its own)",
		);
	}
	if (options.resourceLimits !== undefined && isolation !== Isolation.Dedicated) {
		throw new InvalidOptionError(
			'resourceLimits',
			"`resourceLimits` applies to a loop's own worker: add `isolation: 'dedicated'` (or set it on a TaskPool)",
		);
	}
	if (options.graceMs !== undefined && isolation !== Isolation.Dedicated) {
		throw new InvalidOptionError(
			'graceMs',
			"`graceMs` of a loop applies to its own worker: add `isolation: 'dedicated'` (or set it on the TaskPool)",
		);
	}
	if (isolation === Isolation.Dedicated) {
		// The loop's own pool is created when a run starts; refuse its bad options now.
		assertTaskPoolOptions({
			...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
			...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
		});
	}
	if (exportName !== undefined && (typeof exportName !== 'string' || exportName === '')) {
		throw new InvalidOptionError(
			'exportName',
			`\`exportName\` must be a non-empty string, got ${describeValue(exportName)}`,
		);
	}
}

/** How an owner (the LoopController) shapes the pools a worker loop uses. @internal */
export interface WorkerExecutorHooks {
	/** Options a dedicated pool inherits. */
	readonly dedicatedPoolOptions?: () => TaskPoolOptions;
	/** Called with each pool the loop uses. */
	readonly configurePool?: (pool: TaskPool) => void;
}

/**
 * The executor of worker loops: sends each iteration to a pool. It takes the default pool (or creates the loop's
 * dedicated one) when a run begins and gives it back when the run ends.
 * @internal
 */
export class WorkerExecutor<Args extends readonly unknown[]> implements Executor<Args> {
	readonly #task: TaskRef;
	readonly #options: WorkerLoopOptions;
	#pool: TaskPool | undefined;
	#borrowed: 'default' | 'dedicated' | undefined;

	readonly #hooks: WorkerExecutorHooks;

	constructor(task: TaskRef, options: WorkerLoopOptions, hooks: WorkerExecutorHooks = {}) {
		this.#task = task;
		this.#options = options;
		this.#hooks = hooks;
		if (options.pool) hooks.configurePool?.(options.pool);
	}

	/** The pool the current run uses (the given one, the default one, or the loop's own). */
	get pool(): TaskPool | undefined {
		return this.#options.pool ?? this.#pool;
	}

	checkArgs(args: Args): void {
		args.forEach((arg, index) => {
			const problem = describeUncloneable(arg, `args[${index}]`);
			if (problem) {
				throw new InvalidOptionError(
					`args[${index}]`,
					`Arguments of a worker loop must be structured-cloneable: ${problem}. Pass ids and plain data, not discord.js objects`,
					{ code: ErrorCode.InvalidArgument },
				);
			}
		});
	}

	acquire(): void {
		if (this.#options.pool || this.#pool) return;
		if (this.#options.isolation === Isolation.Dedicated) {
			this.#pool = new TaskPool({
				...this.#hooks.dedicatedPoolOptions?.(),
				threads: 1,
				...(this.#options.resourceLimits ? { resourceLimits: this.#options.resourceLimits } : {}),
				...(this.#options.graceMs === undefined ? {} : { graceMs: this.#options.graceMs }),
			});
			this.#borrowed = 'dedicated';
		} else {
			this.#pool = acquireDefaultPool();
			this.#borrowed = 'default';
		}
		this.#hooks.configurePool?.(this.#pool);
	}

	async release(): Promise<void> {
		const borrowed = this.#borrowed;
		const pool = this.#pool;
		this.#pool = undefined;
		this.#borrowed = undefined;
		if (borrowed === 'dedicated') await pool?.close();
		else if (borrowed === 'default') await releaseDefaultPool();
	}

	execute(invocation: Invocation<Args>): Promise<unknown> {
		const pool = this.pool;
		if (!pool) {
			return Promise.reject(
				new LoopStateError(`Loop '${invocation.loopName}' ran an iteration outside a run`, {
					code: ErrorCode.LoopNotFound,
				}),
			);
		}
		return pool.runIteration(
			{
				protocolVersion: PROTOCOL_VERSION,
				invocationId: TaskPool.nextInvocationId(),
				loopName: invocation.loopName,
				iteration: invocation.iteration,
				task: this.#task,
				args: invocation.args as readonly Cloneable[],
				timeoutMs: this.#options.timeoutMs ?? DEFAULT_WORKER_LOOP_OPTIONS.timeoutMs,
			},
			{
				signal: invocation.signal,
				scope: { loopName: invocation.loopName, iteration: invocation.iteration, allowlist: this.#options.discord },
			},
		);
	}
}
