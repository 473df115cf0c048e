import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ServiceMap } from '../protocol/index.js';
import {
	type Cloneable,
	ErrorCode,
	HELLO_KEY_ENV,
	PoolClosedError,
	PoolQueueFullError,
	PRELOAD_ENV,
	type RunIterationRequest,
	TaskAbortedError,
	TaskName,
	type TaskRef,
	taskKey,
	WorkerCrashedError,
} from '../protocol/index.js';
import { type Clock, systemClock } from './clock.js';
import { HostServer } from './host-server.js';
import {
	type EndReason,
	type IterationCall,
	type IterationTransport,
	type KillSignal,
	type RunIterationOptions,
	superviseIteration,
} from './iteration-supervisor.js';
import {
	assertTaskPoolOptions,
	DEFAULT_TASK_POOL_OPTIONS,
	type TaskPoolOptions,
	workerEnv,
} from './task-pool-options.js';
import { WorkerChannels } from './worker-channels.js';

export type { TaskPoolOptions } from './task-pool-options.js';
export { assertTaskPoolOptions, DEFAULT_TASK_POOL_OPTIONS } from './task-pool-options.js';

/** What a TaskPool uses of piscina: the surface a fake implements to test the pool without workers. @internal */
export interface PiscinaLike {
	run(task: unknown, options: { readonly name: string; readonly signal: AbortSignal }): Promise<unknown>;
	readonly threads: readonly Worker[];
	readonly queueSize: number;
	/** piscina's live options: the pool lowers `minThreads` while it closes and raises it to replace a worker. */
	readonly options: { minThreads: number };
	on(event: 'message' | 'workerDestroy' | 'error', listener: (value: unknown) => void): unknown;
	destroy(): Promise<void>;
}

/** piscina's constructor options. @internal */
export type PiscinaOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;

/** How a TaskPool makes its piscina; a test gives a fake. @internal */
export interface TaskPoolInternals {
	readonly createPiscina?: (options: PiscinaOptions) => PiscinaLike;
}

/** An iteration waiting for one of the pool's `threads` places. */
interface WaitingIteration {
	readonly request: RunIterationRequest;
	readonly kill: KillSignal;
	readonly resolve: (submitted: Promise<unknown>) => void;
	/** Takes the iteration out of the line and fails it, never submitted (a kill, a cancel, a timeout). */
	readonly leave: () => void;
}

/** piscina reports a worker's exit only in its message text: `worker exited with code: 3`. */
const EXIT_CODE = /worker exited with code:? (-?\d+)/i;

/**
 * A pool of worker threads that runs loop bodies (task modules), over piscina. Each worker gets one persistent
 * host channel when it starts, for the main thread's services and Discord access and for cancels. Everything that
 * can go wrong with a worker comes back as one of our errors: {@link TaskError} (the body threw),
 * {@link WorkerCrashedError} (it exited, threw outside the body, ran out of memory), {@link TaskTimeoutError},
 * {@link TaskAbortedError}.
 *
 * @typeParam S - The services tasks may call (`ctx.host`).
 *
 * @example
 * ```ts
 * import { loop, TaskPool } from 'discord-tasks';
 *
 * const pool = new TaskPool({ threads: 2, services: { saveScores: async (rows: Row[]) => db.save(rows) } });
 * const board = loop({ minutes: 5, timeoutMs: 30_000, pool }, new URL('./tasks/leaderboard.js', import.meta.url));
 * board.start('123', 10);
 * // on shutdown:
 * await pool.close();
 * ```
 */
export class TaskPool<S extends ServiceMap = ServiceMap> {
	readonly #piscina: PiscinaLike;
	readonly #server: HostServer;
	readonly #channels: WorkerChannels;
	readonly #graceMs: number;
	/** The most iterations running at once (the `threads` option). */
	readonly #maxThreads: number;
	readonly #maxQueue: number;
	readonly #clock: Clock;
	/** The options this pool was made with, for the loops' own workers that inherit them. */
	readonly #options: TaskPoolOptions<S>;
	readonly #transport: IterationTransport;
	/** The environment new workers start with; the warm-up list in it grows as new task modules are run. */
	readonly #env: Record<string, string>;
	/** The task modules this pool has run, by {@link taskKey}: a new worker imports them before it is ready. */
	readonly #warm = new Map<string, TaskRef>();
	/** The task refs already on the warm-up list: each loop passes the same object every iteration. */
	readonly #warmRefs = new WeakSet<TaskRef>();
	/** Whether the pool keeps a spare worker (it keeps workers: `minThreads` ≥ 1). */
	readonly #spare: boolean;
	/** piscina's thread limits: the pool's own, plus the spare worker when there is one. */
	readonly #piscinaMinThreads: number;
	readonly #piscinaMaxThreads: number;
	/** Iterations submitted and not settled yet. */
	#inflight = 0;
	/** Iterations handed to piscina and not settled: never more than `threads`, so the spare worker stays idle. */
	#running = 0;
	/** Iterations killed while they waited, so never ran: only that rare path adds to it, not every iteration. */
	readonly #neverRan = new WeakSet<RunIterationRequest>();
	/** Iterations waiting for one of the `threads` places, first in first out. */
	readonly #waiting: WaitingIteration[] = [];
	/** Resolves `close()`'s wait once `#inflight` drops to 0. */
	#onDrained: (() => void) | undefined;
	#closed: Promise<void> | undefined;

	/**
	 * @param internals - For tests of the pool itself: how it makes its piscina.
	 * @throws {@link InvalidOptionError} naming the option and the value it got.
	 */
	constructor(options: TaskPoolOptions<S> = {}, internals: TaskPoolInternals = {}) {
		assertTaskPoolOptions(options);
		this.#options = options;
		const maxThreads = options.threads ?? Math.max(1, availableParallelism() - 1);
		const minThreads = Math.min(options.minThreads ?? DEFAULT_TASK_POOL_OPTIONS.minThreads, maxThreads);
		this.#maxThreads = maxThreads;
		// A pool that keeps workers warm (minThreads ≥ 1) keeps one more, idle: when a worker dies, the iteration
		// retried after it runs on the spare at once instead of waiting for a new worker to boot (about 30-40 ms),
		// and piscina starts the next spare meanwhile. The pool never runs more than `threads` iterations at once.
		this.#spare = minThreads > 0;
		this.#piscinaMinThreads = minThreads + (this.#spare ? 1 : 0);
		this.#piscinaMaxThreads = maxThreads + (this.#spare ? 1 : 0);
		this.#maxQueue = options.maxQueue ?? DEFAULT_TASK_POOL_OPTIONS.maxQueue;
		this.#graceMs = options.graceMs ?? DEFAULT_TASK_POOL_OPTIONS.graceMs;
		this.#clock = options.clock ?? systemClock;
		this.#server = new HostServer(options.services ?? {});
		// The key that authenticates a worker's hello: only worker hosts of this pool read it, as they load.
		const key = randomUUID();
		const filename = options.workerPath ?? new URL('./worker-host.cjs', import.meta.url);
		// piscina hands this same object to every worker it starts, so a module added to the warm-up list later
		// reaches the workers started after that.
		this.#env = { ...workerEnv(options), [HELLO_KEY_ENV]: key };
		const createPiscina = internals.createPiscina ?? ((piscinaOptions) => new Piscina(piscinaOptions));
		this.#piscina = createPiscina({
			filename: filename instanceof URL ? filename.href : filename,
			minThreads: this.#piscinaMinThreads,
			maxThreads: this.#piscinaMaxThreads,
			idleTimeout: options.idleTimeoutMs ?? DEFAULT_TASK_POOL_OPTIONS.idleTimeoutMs,
			// One body per worker: an abortable task must own its worker, since aborting it terminates the thread.
			concurrentTasksPerWorker: 1,
			// piscina's Atomics.wait loop between tasks blocks the worker's event loop, which would stall the host
			// channel that services and cancellation use.
			atomics: 'disabled',
			env: this.#env,
			...(options.execArgv ? { execArgv: [...options.execArgv] } : {}),
			...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
		});
		this.#channels = new WorkerChannels(this.#piscina, key, this.#server, () =>
			this.#warm.size > 0 ? { type: 'preload', tasks: [...this.#warm.values()] } : undefined,
		);
		this.#piscina.on('message', (message: unknown) => this.#channels.accept(message));
		this.#piscina.on('workerDestroy', () => {
			this.#replaceAtOnce();
			// After the worker is gone from piscina's list (it emits this event just before removing it).
			queueMicrotask(() => this.#replaceLostWorker());
		});
		// A worker that fails with no task running surfaces as the pool's 'error' event; without a listener it
		// would crash the bot. Its tasks (if any) were already rejected and mapped.
		this.#piscina.on('error', () => {});
		this.#transport = {
			start: (request, kill) =>
				this.#running < this.#maxThreads ? this.#submit(request, kill) : this.#wait(request, kill),
			cancel: (invocationId, reason) => this.#cancel(invocationId, reason),
			crash: (error, request) => this.#crashError(error, request),
			done: (request) => this.#done(request),
		};
	}

	/** Worker threads alive right now (with the spare, when the pool keeps one). */
	get threads(): number {
		return this.#piscina.threads.length;
	}
	/** Iterations waiting for one of the `threads` places. */
	get queueSize(): number {
		return this.#waiting.length + this.#piscina.queueSize;
	}
	/** Whether {@link TaskPool.close} was called. */
	get closed(): boolean {
		return this.#closed !== undefined;
	}
	/**
	 * The options this pool was created with: a loop with `isolation: 'dedicated'` on this pool gets a worker of its
	 * own made with the same services, environment and limits.
	 * @internal
	 */
	get options(): TaskPoolOptions<S> {
		return this.#options;
	}

	/**
	 * Adds a task module to the pool's warm-up list: the workers running now import it at once, and every worker
	 * started later imports it before it reports ready. Called when a loop is created on the pool and with every
	 * iteration; a module already on the list costs a lookup.
	 * @internal
	 */
	prepare(task: TaskRef): void {
		if (this.#warmRefs.has(task)) return;
		this.#warmRefs.add(task);
		const key = taskKey(task);
		if (this.#warm.has(key) || this.#closed !== undefined) return;
		this.#warm.set(key, task);
		this.#env[PRELOAD_ENV] = JSON.stringify([...this.#warm.values()]);
		this.#channels.broadcast({ type: 'preload', tasks: [task] });
	}

	/**
	 * Runs one iteration in a worker and maps every failure to our errors. The cancel `signal` (the loop's) first
	 * aborts the body's `ctx.signal`, then terminates its worker after the grace period; `timeoutMs` does the same.
	 * The iteration reaches Discord only through `scope.discord`, checked against `scope.allowlist`.
	 * @internal
	 */
	runIteration(call: IterationCall, options: RunIterationOptions): Promise<Cloneable> {
		if (this.#closed !== undefined) return Promise.reject(new PoolClosedError('The task pool is closed'));
		if (options.signal.aborted) {
			return Promise.reject(
				new TaskAbortedError(`Loop '${call.loopName}' was cancelled before its iteration started`, {
					cause: options.signal.reason,
				}),
			);
		}
		// piscina does not apply maxQueue to tasks that carry an abort signal (all of ours), so it is counted here.
		if (this.#inflight >= this.#maxThreads + this.#maxQueue) {
			return Promise.reject(
				new PoolQueueFullError(
					`The task pool is full: ${this.#inflight} iterations are running or waiting (threads ${this.#maxThreads} + maxQueue ${this.#maxQueue}); loop '${call.loopName}' will retry`,
				),
			);
		}
		this.#inflight += 1;
		this.prepare(call.task);
		// No async layer of its own: the supervisor tells the transport when the iteration has settled (`done`).
		return superviseIteration(this.#server, this.#transport, call, {
			signal: options.signal,
			scope: options.scope,
			clock: this.#clock,
			graceMs: this.#graceMs,
		});
	}

	/** Hands an iteration to piscina, taking one of the `threads` places, and keeps a spare worker started. */
	#submit(request: RunIterationRequest, kill: KillSignal): Promise<unknown> {
		this.#running += 1;
		const submitted = this.#piscina.run(request, {
			name: TaskName.RunIteration,
			signal: kill as unknown as AbortSignal,
		});
		// piscina keeps minThreads + 1 workers, so up to minThreads running leave the spare idle. Past that it starts a
		// worker only for a task that finds none idle: with every worker busy, the spare is started here, so a pool
		// running all its `threads` still has one warm worker for the retry after a crash.
		if (this.#spare && this.#running >= this.#piscinaMinThreads && this.#closed === undefined) {
			const workers = this.#piscina.threads.length;
			if (this.#running >= workers && workers < this.#piscinaMaxThreads) this.#startWorker();
		}
		return submitted;
	}

	/** Holds an iteration until one of the `threads` places is free; killing it meanwhile takes it out of the line. */
	#wait(request: RunIterationRequest, kill: KillSignal): Promise<unknown> {
		return new Promise((resolve, reject) => {
			const waiting: WaitingIteration = {
				request,
				kill,
				resolve,
				leave: () => {
					const at = this.#waiting.indexOf(waiting);
					if (at < 0) return;
					this.#waiting.splice(at, 1);
					kill.removeEventListener('abort', waiting.leave);
					this.#neverRan.add(request);
					reject(new Error('The iteration was stopped while it waited for a worker'));
				},
			};
			kill.addEventListener('abort', waiting.leave);
			this.#waiting.push(waiting);
		});
	}

	/**
	 * A cancel or a timeout: an iteration still waiting leaves the line at once (its body never starts, so nothing
	 * runs after the loop was cancelled or past its deadline); a running one is asked to stop.
	 */
	#cancel(invocationId: string, reason: EndReason): void {
		const waiting = this.#waiting.find((each) => each.request.invocationId === invocationId);
		if (waiting) waiting.leave();
		else this.#channels.cancel(invocationId, reason);
	}

	/** An iteration of this pool settled (the supervisor calls it last, whatever the outcome). */
	#done(request: RunIterationRequest): void {
		if (!this.#neverRan.has(request)) {
			this.#running -= 1;
			const next = this.#waiting.shift();
			if (next) {
				next.kill.removeEventListener('abort', next.leave);
				let submitted: Promise<unknown>;
				try {
					submitted = this.#submit(next.request, next.kill);
				} catch (error) {
					// piscina can throw at once (a worker that cannot be started): the waiting iteration fails with it
					// instead of waiting forever, and the places and counts stay right.
					submitted = Promise.reject(error);
				}
				next.resolve(submitted);
			}
		}
		this.#inflight -= 1;
		if (this.#inflight === 0) this.#onDrained?.();
	}

	#crashError(error: unknown, { loopName, token }: RunIterationRequest): Error {
		if (this.#closed !== undefined)
			return new PoolClosedError('The task pool was closed while the iteration ran', { cause: error });
		const violation = this.#server.violationOf(token);
		if (violation !== undefined) {
			return new WorkerCrashedError(
				`The worker running loop '${loopName}' broke the host protocol (${violation}) and was replaced`,
				{ reason: 'broke the host protocol', cause: error },
			);
		}
		const code = (error as { code?: unknown } | null)?.code;
		if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
			return new WorkerCrashedError(`The worker running loop '${loopName}' ran out of memory (resourceLimits)`, {
				reason: 'ran out of memory',
				code: ErrorCode.WorkerOutOfMemory,
				cause: error,
			});
		}
		const message = error instanceof Error ? error.message : String(error);
		const exit = EXIT_CODE.exec(message);
		if (exit) {
			const exitCode = Number(exit[1]);
			return new WorkerCrashedError(`The worker running loop '${loopName}' exited with code ${exitCode}`, {
				reason: `exited with code ${exitCode}`,
				exitCode,
				cause: error,
			});
		}
		if (/pool is closed/i.test(message)) {
			return new PoolClosedError(`The task pool refused the iteration: ${message}`, { cause: error });
		}
		return new WorkerCrashedError(`The worker running loop '${loopName}' crashed: ${message}`, {
			reason: 'uncaught error',
			cause: error,
		});
	}

	/**
	 * A worker that crashed or was killed (a timeout, a cancel) is replaced at once, not when the next iteration
	 * arrives: the retry after the loop's backoff then finds a worker that has loaded its host and the pool's task
	 * modules. piscina tops the pool up to `minThreads` right after it removes such a worker (and not after an idle
	 * timeout), so the minimum is raised to count the dying worker for that moment and set back after it.
	 */
	#replaceAtOnce(): void {
		if (this.#closed !== undefined) return;
		const options = this.#piscina.options as { minThreads: number };
		options.minThreads = Math.min(
			this.#piscinaMaxThreads,
			Math.max(this.#piscinaMinThreads, this.#piscina.threads.length),
		);
		queueMicrotask(() => {
			if (this.#closed === undefined) options.minThreads = this.#piscinaMinThreads;
		});
	}

	/**
	 * piscina replaces a terminated or crashed worker only up to `minThreads` (0 by default), and starts a worker for
	 * queued work only inside `run()`: iterations queued behind a worker that was killed (timeout, cancel) or that
	 * crashed would wait for some later `run()`, forever if none comes. Submitting a task while work is queued makes
	 * piscina start a worker (up to `maxThreads`); aborting that task at once takes it off the queue again, so it never
	 * runs. With work queued no worker is idle, so the task cannot have been handed to one.
	 */
	#replaceLostWorker(): void {
		if (
			this.#closed !== undefined ||
			this.#piscina.queueSize === 0 ||
			this.#piscina.threads.length >= this.#piscinaMaxThreads
		)
			return;
		this.#startWorker();
	}

	/**
	 * Makes piscina start one worker (up to its `maxThreads`): a task that finds no idle worker makes it start one,
	 * and aborting that task at once takes it off the queue again, so it never runs. Only called when no worker is
	 * idle: an idle worker would be handed the task, and aborting it would terminate that worker.
	 */
	#startWorker(): void {
		const nudge = new AbortController();
		try {
			this.#piscina.run(null, { name: TaskName.RunIteration, signal: nudge.signal }).catch(() => {});
		} catch {
			// A worker that cannot be started now (piscina throws at once): the next iteration's submission tries again.
		}
		nudge.abort();
	}

	/**
	 * Closes the pool: waits for running iterations, then terminates the workers. Later iterations are refused
	 * with {@link PoolClosedError}. Idempotent.
	 */
	close(): Promise<void> {
		this.#closed ??= (async () => {
			// Each in-flight iteration settles by itself (a body that never returns needs its loop's timeoutMs or a
			// cancel, which terminate its worker). piscina's own close() would wait 30 s for a task whose worker it
			// terminated, so the pool waits for its iterations and then destroys the workers itself.
			if (this.#inflight > 0) {
				await new Promise<void>((resolve) => {
					this.#onDrained = resolve;
				});
			}
			// A worker killed just before (a cancel, a timeout) may report its exit after destroy() has finished, and
			// piscina then starts `minThreads` new workers in the destroyed pool, which nothing would ever end. A
			// closing pool wants no minimum: piscina reads this option each time it tops the pool up.
			(this.#piscina.options as { minThreads: number }).minThreads = 0;
			await this.#piscina.destroy();
			this.#channels.close();
		})();
		return this.#closed;
	}

	/** Same as {@link TaskPool.close}. */
	[Symbol.asyncDispose](): Promise<void> {
		return this.close();
	}
}
