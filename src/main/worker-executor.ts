import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import {
	assertNumber,
	type Cloneable,
	describeUncloneable,
	describeValue,
	ErrorCode,
	InvalidOptionError,
	LoopStateError,
	MAX_SCHEDULE_MS,
	optionKeySet,
	TaskModuleError,
	type TaskRef,
} from '../protocol/index.js';
import { acquireDefaultPool, releaseDefaultPool } from './default-pool.js';
import { CompiledAllowlist, type DiscordAllowlist } from './discord-allowlist.js';
import type { Executor, Invocation } from './executor.js';
import type { DiscordBridge } from './host-server.js';
import type { IterationCall, RunIterationOptions } from './iteration-supervisor.js';
import { ProcessPool } from './process-pool.js';
import { assertTaskPoolOptions, TaskPool, type TaskPoolOptions } from './task-pool.js';

/** How a worker loop's iterations are isolated from other loops. */
export const Isolation = {
	/** Iterations run in the shared pool (the loop's `pool`, else the default pool). */
	Shared: 'shared',
	/** The loop gets a worker of its own, with its own `resourceLimits`: a leak or crash cannot touch other loops. */
	Dedicated: 'dedicated',
	/**
	 * The loop gets a child process of its own, started without the bot's token in its environment or memory: the
	 * boundary for task code you do not trust (threads share one address space; processes do not). Also for native
	 * addons that cannot load in a worker thread. See docs/security.md.
	 */
	Process: 'process',
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
	/** Heap/stack caps of the loop's own worker or process (`isolation: 'dedicated'` or `'process'`). */
	readonly resourceLimits?: ResourceLimits;
	/** How long a cancelled or timed-out body of the loop's own worker or process may take to stop (`isolation: 'dedicated'` or `'process'`; a shared pool has its own). @defaultValue 1000 */
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
	// Both sides split a timeout past one timer's reach, so it may be as long as a schedule.
	if (timeoutMs !== undefined) assertNumber(timeoutMs, 'timeoutMs', { min: 0, max: MAX_SCHEDULE_MS, unit: 'ms' });
	const isolations: readonly unknown[] = Object.values(Isolation);
	if (isolation !== undefined && !isolations.includes(isolation)) {
		throw new InvalidOptionError(
			'isolation',
			`\`isolation\` must be one of ${isolations.map((name) => `'${name}'`).join(', ')}, got ${describeValue(isolation)}`,
		);
	}
	if (pool !== undefined && !(pool instanceof TaskPool)) {
		throw new InvalidOptionError('pool', `\`pool\` must be a TaskPool, got ${describeValue(pool)}`);
	}
	const ownWorker = isolation === Isolation.Dedicated || isolation === Isolation.Process;
	if (options.resourceLimits !== undefined && !ownWorker) {
		throw new InvalidOptionError(
			'resourceLimits',
			"`resourceLimits` applies to a loop's own worker: add `isolation: 'dedicated'` or `'process'` (or set it on a TaskPool)",
		);
	}
	if (options.graceMs !== undefined && !ownWorker) {
		throw new InvalidOptionError(
			'graceMs',
			"`graceMs` of a loop applies to its own worker: add `isolation: 'dedicated'` or `'process'` (or set it on the TaskPool)",
		);
	}
	if (ownWorker) {
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

/** Where a worker loop's iterations run: a shared or dedicated {@link TaskPool}, or a task process. @internal */
export interface IterationRunner {
	runIteration(call: IterationCall, options: RunIterationOptions): Promise<Cloneable>;
	close(): Promise<void>;
}

/** How an owner (the LoopController) shapes the pools a worker loop uses. @internal */
export interface WorkerExecutorHooks {
	/** Options a loop's own worker or process inherits when the loop names no pool (the controller's pool options). */
	readonly dedicatedPoolOptions?: () => TaskPoolOptions;
	/** The client bridge the loop's tasks reach Discord through (carried with each iteration). */
	readonly discord?: () => DiscordBridge | undefined;
}

/**
 * The executor of worker loops: sends each iteration to a pool. It takes the default pool (or creates the loop's
 * own worker or process) when a run begins and gives it back when the run ends. Each iteration carries the loop's
 * allowlist and Discord client: a pool shared by several controllers never mixes them up.
 * @internal
 */
export class WorkerExecutor<Args extends readonly unknown[]> implements Executor<Args> {
	readonly #task: TaskRef;
	readonly #options: WorkerLoopOptions;
	readonly #allowlist: CompiledAllowlist;
	readonly #hooks: WorkerExecutorHooks;
	readonly #timeoutMs: number;
	#runner: IterationRunner | undefined;
	#borrowed: 'default' | 'own' | undefined;

	constructor(task: TaskRef, options: WorkerLoopOptions, hooks: WorkerExecutorHooks = {}) {
		this.#task = task;
		this.#options = options;
		this.#hooks = hooks;
		this.#allowlist = new CompiledAllowlist(options.discord);
		this.#timeoutMs = options.timeoutMs ?? DEFAULT_WORKER_LOOP_OPTIONS.timeoutMs;
		// The pool's idle workers (minThreads) import the task now, before the first iteration is due.
		if (options.pool && !this.#ownWorker) options.pool.prepare(task);
	}

	/** Whether the loop runs in a worker or process of its own. */
	get #ownWorker(): boolean {
		return this.#options.isolation === Isolation.Dedicated || this.#options.isolation === Isolation.Process;
	}

	/** The pool the current run uses (the given one, the default one), or the loop's own worker or process. */
	get pool(): IterationRunner | undefined {
		return this.#runner ?? (this.#ownWorker ? undefined : this.#options.pool);
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
		if (this.#runner || (this.#options.pool && !this.#ownWorker)) return;
		if (this.#ownWorker) {
			// A loop's own worker or process inherits every option of the pool it names (or of the controller's pool),
			// so an option added to TaskPool is never silently left out.
			const inherited = this.#options.pool?.options ?? this.#hooks.dedicatedPoolOptions?.() ?? {};
			const own: TaskPoolOptions = {
				...inherited,
				threads: 1,
				minThreads: 0,
				...(this.#options.resourceLimits ? { resourceLimits: this.#options.resourceLimits } : {}),
				...(this.#options.graceMs === undefined ? {} : { graceMs: this.#options.graceMs }),
			};
			this.#runner = this.#options.isolation === Isolation.Process ? new ProcessPool(own) : new TaskPool(own);
			this.#borrowed = 'own';
		} else {
			this.#runner = acquireDefaultPool();
			this.#borrowed = 'default';
		}
	}

	async release(): Promise<void> {
		const borrowed = this.#borrowed;
		const runner = this.#runner;
		this.#runner = undefined;
		this.#borrowed = undefined;
		if (borrowed === 'own') await runner?.close();
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
		const { loopName, iteration } = invocation;
		return pool.runIteration(
			{
				task: this.#task,
				args: invocation.args as readonly Cloneable[],
				loopName,
				iteration,
				timeoutMs: this.#timeoutMs,
			},
			{
				signal: invocation.signal,
				scope: { loopName, iteration, allowlist: this.#allowlist, discord: this.#hooks.discord?.() },
			},
		);
	}
}
