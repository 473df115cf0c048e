import { EventEmitter } from 'node:events';
import type { Client } from 'discord.js';
import type { ServiceMap, TaskDefinition } from '../protocol/index.js';
import {
	assertKnownKeys,
	assertOptionsObject,
	assertTimerMs,
	describeValue,
	ErrorCode,
	InvalidOptionError,
	LoopStateError,
	optionKeySet,
	WorkerCrashedError,
} from '../protocol/index.js';
import { clientBridge } from './client-bridge.js';
import {
	BACKEND,
	type BullMQBackendSpec,
	ClusterEngine,
	isLoopBackend,
	type LoopBackend,
} from './cluster/cluster-engine.js';
import {
	ClusterLoop,
	type ClusterLoopOptions,
	type ClusterLoopStatus,
	checkClusterLoopOptions,
} from './cluster/cluster-loop.js';
import { assertKeyPart } from './cluster/cluster-options.js';
import { type ControllerLogger, describeBadLogger, LogSink } from './controller-logger.js';
import { createLoop, type TaskArgs } from './create-loop.js';
import type { LoopControllerEventMap } from './events.js';
import type { DiscordBridge } from './host-server.js';
import { type Loop, type LoopEventMap, LoopState } from './loop.js';
import { LoopObserver } from './loop-observer.js';
import type { LoopOptions } from './loop-options.js';
import type { LoopStats, LoopStatsSnapshot } from './loop-stats.js';
import type { ScheduleOptions } from './schedule.js';
import { assertTaskPoolOptions, TaskPool, type TaskPoolOptions } from './task-pool.js';
import { formatTimeOfDay } from './time-of-day.js';
import type { WorkerLoopOptions } from './worker-executor.js';

/** Options of {@link LoopController}. */
export interface LoopControllerOptions<S extends ServiceMap = ServiceMap> {
	/** The bot's discord.js client: tasks reach Discord through it (`ctx.discord`), `waitUntilReady` waits for it. */
	readonly client?: Client;
	/** The pool worker loops use: a TaskPool, or options to create one (closed by `close()`). @defaultValue `{}` */
	readonly pool?: TaskPool<S> | TaskPoolOptions<S>;
	/** Call `close()` when the client is destroyed (`client.destroy()`). @defaultValue false */
	readonly closeOnClientDestroy?: boolean;
	/** How long `close()` lets running iterations finish before cancelling them. @defaultValue 10_000 */
	readonly closeTimeoutMs?: number;
	/**
	 * Where the controller and its loops log: pino, winston, `console`, or anything with `warn` and `error` (and
	 * optionally `debug` and `info`), with structured fields (see {@link ControllerLogger}). Loops created without
	 * a `logger` of their own write their retry warnings and unhandled errors here.
	 * @defaultValue warnings and errors to stderr, debug and info off
	 */
	readonly logger?: ControllerLogger;
	/**
	 * Run the loops once per tick across every process of the bot (shards, replicas, hosts) instead of in this
	 * process alone: `bullmqBackend({ connection })` from `discord-tasks/bullmq`. Every process declares the same
	 * loops; `start`, `stop`, `cancel`, `restart` and `changeInterval` from any of them act on the one cluster-wide
	 * run. See docs/cluster.md. @defaultValue the in-process engine (no Redis)
	 */
	readonly backend?: LoopBackend;
}

/** Defaults of {@link LoopControllerOptions}. */
export const DEFAULT_LOOP_CONTROLLER_OPTIONS = {
	closeOnClientDestroy: false,
	closeTimeoutMs: 10_000,
} as const satisfies LoopControllerOptions;

/** Options the controller adds to a loop's options (`delivery` and `runOn` need a `backend`). */
export interface ControllerLoopOptions extends ClusterLoopOptions {
	/**
	 * Wait for the client's `clientReady` before the first iteration of every run (discord.py's most common
	 * `before_loop`, `await bot.wait_until_ready()`); runs before the loop's own `beforeLoop`.
	 * @defaultValue false
	 */
	readonly waitUntilReady?: boolean;
}

/**
 * A JSON snapshot of one loop, from {@link LoopController.status}: its state and schedule, plus everything the
 * controller counted since it created the loop ({@link LoopStatsSnapshot}). docs/observability.md describes each field.
 */
export interface LoopStatus extends LoopStatsSnapshot {
	readonly name: string;
	readonly state: LoopState;
	readonly running: boolean;
	/** The schedule in words: `every 300 s`, `at 09:00:00 UTC, 18:00:00 Europe/Berlin`, `cron 0 * * * *`. */
	readonly schedule: string;
	/** Whether the body runs in a worker (or a child process). */
	readonly worker: boolean;
	readonly currentLoop: number;
	/** ISO date, or null. */
	readonly nextIteration: string | null;
	/** With a `backend`: which process ran the latest iteration, and the cluster-wide counters. */
	readonly cluster?: ClusterLoopStatus;
}

interface Tracked {
	readonly stats: LoopStats;
	readonly worker: boolean;
	promise: Promise<void> | undefined;
	/** The arguments of the last `start()`/`restart()` through the controller: a restart without arguments reuses them. */
	args: readonly unknown[];
	/** Removes the controller's listeners from the loop. */
	untrack: () => void;
}

type AnyLoop = Loop<readonly unknown[]>;

/**
 * The arguments of each loop of a controller, by name: `{ leaderboard: [channelId: string, top: number] }`. Give it
 * as the controller's second type parameter to type `start(name, ...)` and `restart(name, ...)`.
 */
export type LoopArgsByName = { readonly [name: string]: readonly unknown[] };

/** The arguments of loop `N` in `L`, or any arguments for a loop `L` does not name. */
export type LoopArgs<L extends LoopArgsByName, N extends string> = N extends keyof L ? L[N] : readonly unknown[];

/** The options a controller adds to `loop()`'s. */
const CONTROLLER_LOOP_OPTION_KEYS = optionKeySet<Pick<ControllerLoopOptions, 'waitUntilReady'>>({
	waitUntilReady: true,
});

const CONTROLLER_OPTION_KEYS = optionKeySet<LoopControllerOptions>({
	client: true,
	pool: true,
	closeOnClientDestroy: true,
	closeTimeoutMs: true,
	logger: true,
	backend: true,
});

/**
 * Resolves when the client is ready (at once if it is), or when `signal` aborts; never leaves a listener behind.
 * Only `clientReady` is awaited: a client 'error' while connecting is the gateway's business, not the loop's.
 */
function whenReady(client: Client, signal: AbortSignal): Promise<void> {
	if (client.isReady() || signal.aborted) return Promise.resolve();
	return new Promise((resolve) => {
		const onReady = () => {
			signal.removeEventListener('abort', onAbort);
			resolve();
		};
		const onAbort = () => {
			client.off('clientReady', onReady);
			resolve();
		};
		client.once('clientReady', onReady);
		signal.addEventListener('abort', onAbort, { once: true });
	});
}

/** Waits for `promise`, at most `ms`. */
async function withDeadline(promise: Promise<unknown>, ms: number): Promise<void> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
	clearTimeout(timer);
}

/**
 * Settles once the loop has no run in progress, as the run's own promise does: resolves when it completed, stopped
 * or was cancelled, rejects with the error that ended it. Marked handled, like the promise `start()` returns.
 */
function whenStopped(loop: AnyLoop): Promise<void> {
	if (!loop.isRunning()) return Promise.resolve();
	const stopped = new Promise<void>((resolve, reject) => {
		const onStopped: (...args: LoopEventMap['loopStopped']) => void = ({ reason, error }) => {
			if (loop.isRunning()) return; // a queued run (restart) began
			loop.off('loopStopped', onStopped);
			if (reason === 'failed') reject(error);
			else resolve();
		};
		loop.on('loopStopped', onStopped);
	});
	stopped.catch(() => {});
	return stopped;
}

/** The shards this process's client holds, for `runOn` (ShardingManager, hybrid clusters, or the client's own). */
function shardsOf(client: Client | undefined): { readonly ids: readonly number[]; readonly count: number } {
	const shard = client?.shard;
	if (shard) return { ids: shard.ids, count: shard.count };
	const options = client?.options;
	const ids = Array.isArray(options?.shards) ? options.shards : [0];
	return { ids, count: options?.shardCount ?? Math.max(1, ...ids.map((id) => id + 1)) };
}

function describeSchedule(loop: AnyLoop): string {
	const time = loop.time;
	if (time) return `at ${time.map(formatTimeOfDay).join(', ')}`;
	if (loop.cron) return `cron ${loop.cron}`;
	const seconds = (loop.seconds ?? 0) + 60 * (loop.minutes ?? 0) + 3600 * (loop.hours ?? 0);
	return `every ${seconds} s`;
}

/**
 * Owns a bot's loops: creates them by name, shares one worker pool between them, lets tasks reach Discord through
 * the bot's client, reports every loop's state, and shuts everything down in order. Names are unique.
 *
 * @typeParam S - The services tasks may call (`ctx.host`).
 * @typeParam L - The arguments of each loop by name, to type `start(name, ...)` and `restart(name, ...)`.
 *
 * @example
 * ```ts
 * import { Client, GatewayIntentBits } from 'discord.js';
 * import { LoopController } from 'discord-tasks';
 *
 * const client = new Client({ intents: [GatewayIntentBits.Guilds] });
 * const tasks = new LoopController({ client, pool: { threads: 2 } });
 * const board = tasks.loop<typeof import('./tasks/leaderboard.js')>(
 *   { minutes: 5, name: 'leaderboard', waitUntilReady: true, discord: { channels: [channelId] } },
 *   new URL('./tasks/leaderboard.js', import.meta.url),
 * );
 * tasks.on('iterationFailed', (loop, { error, willRetry }) => console.warn(loop.name, error, willRetry));
 * board.start(guildId, 10);
 * await client.login(token);
 * process.once('SIGINT', () => tasks.close().then(() => client.destroy()));
 * ```
 */
export class LoopController<
	S extends ServiceMap = ServiceMap,
	L extends LoopArgsByName = LoopArgsByName,
> extends EventEmitter<LoopControllerEventMap> {
	/** The client given to the constructor, if any. */
	readonly client: Client | undefined;
	readonly #loops = new Map<string, AnyLoop>();
	readonly #tracked = new Map<AnyLoop, Tracked>();
	readonly #log: LogSink;
	readonly #poolOption: TaskPool<S> | TaskPoolOptions<S> | undefined;
	readonly #closeTimeoutMs: number;
	#pool: TaskPool<S> | undefined;
	/** How this controller's worker loops reach Discord: made once, carried with every iteration. */
	readonly #bridge: DiscordBridge | undefined;
	#closing: Promise<void> | undefined;
	/** The cluster engine, with a `backend`. */
	readonly #engine: ClusterEngine | undefined;
	/** Stops the engine waiting for the client to be ready (on close). */
	#stopWaiting: (() => void) | undefined;

	/** @throws {@link InvalidOptionError} naming the option and the value it got. */
	constructor(options: LoopControllerOptions<S> = {}) {
		super();
		assertOptionsObject(options, 'LoopController options');
		assertKnownKeys(options, CONTROLLER_OPTION_KEYS, 'LoopController');
		const { client, closeTimeoutMs = DEFAULT_LOOP_CONTROLLER_OPTIONS.closeTimeoutMs } = options;
		if (
			client !== undefined &&
			(typeof client !== 'object' || client === null || typeof client.rest?.post !== 'function')
		) {
			throw new InvalidOptionError('client', `\`client\` must be a discord.js Client, got ${describeValue(client)}`);
		}
		assertTimerMs(closeTimeoutMs, 'closeTimeoutMs');
		const badLogger = options.logger === undefined ? undefined : describeBadLogger(options.logger);
		if (badLogger !== undefined) {
			throw new InvalidOptionError(
				'logger',
				`\`logger\` must be a logger (pino, winston, console) with ${badLogger}, got ${describeValue(options.logger)}`,
			);
		}
		this.#log = new LogSink(options.logger);
		this.client = client;
		this.#bridge = client ? clientBridge(client) : undefined;
		this.#closeTimeoutMs = closeTimeoutMs;
		this.#poolOption = options.pool;
		if (options.backend !== undefined) {
			if (!isLoopBackend(options.backend)) {
				throw new InvalidOptionError(
					'backend',
					`\`backend\` must be made by bullmqBackend() from 'discord-tasks/bullmq', got ${describeValue(options.backend)}`,
				);
			}
			// A process takes ticks once its client is ready (a shard that is still connecting leaves them to others).
			const closing = new AbortController();
			this.#stopWaiting = () => closing.abort();
			this.#engine = new ClusterEngine(
				options.backend[BACKEND] as BullMQBackendSpec,
				this.#log,
				() => shardsOf(client),
				client ? () => whenReady(client, closing.signal) : undefined,
			);
		}
		if (options.pool instanceof TaskPool) this.#adoptPool(options.pool);
		else if (options.pool !== undefined) assertTaskPoolOptions(options.pool); // validated now, created on first use
		if (options.closeOnClientDestroy && client) {
			// discord.js has no 'destroy' event: wrap destroy() so close() runs first. discord.js itself calls
			// destroy() when login() fails; the loops are closed only for a client that has been ready, so a bot
			// can log in again after a failed attempt.
			const destroy = client.destroy.bind(client);
			let wasReady = client.isReady();
			client.once('clientReady', () => {
				wasReady = true;
			});
			client.destroy = async () => {
				try {
					if (wasReady) await this.close();
				} finally {
					if (wasReady) client.destroy = destroy;
					await destroy();
				}
			};
		}
	}

	/** The shared pool of worker loops (created on first use). */
	get pool(): TaskPool<S> {
		if (this.#pool) return this.#pool;
		const option = this.#poolOption;
		return this.#adoptPool(new TaskPool<S>(option instanceof TaskPool ? {} : (option ?? {})));
	}

	/** The shared pool if a worker loop has created it (reading {@link LoopController.pool} creates it). */
	get activePool(): TaskPool<S> | undefined {
		return this.#pool;
	}

	/** What a loop's own worker or process inherits: every option of the controller's pool. */
	#dedicatedPoolOptions(): TaskPoolOptions {
		const option = this.#poolOption;
		return option instanceof TaskPool ? option.options : (option ?? {});
	}

	#adoptPool(pool: TaskPool<S>): TaskPool<S> {
		this.#pool = pool;
		return pool;
	}

	/**
	 * Creates a main-thread loop owned by this controller (see `loop()`), plus `waitUntilReady`.
	 * @throws {@link LoopStateError} (`ERR_LOOP_NAME_TAKEN`) if the name is in use; {@link InvalidOptionError}.
	 */
	loop<Args extends readonly unknown[]>(
		options: LoopOptions<Loop<Args>> & ControllerLoopOptions,
		body: (...args: Args) => unknown,
	): Loop<Args>;
	/**
	 * Creates a worker loop owned by this controller (see `loop()`); it runs in the controller's pool unless its
	 * options name another, and its task reaches Discord through the controller's client (`ctx.discord`).
	 */
	loop<M = TaskDefinition<readonly unknown[]>>(
		options: LoopOptions<Loop<TaskArgs<M>>> & WorkerLoopOptions & ControllerLoopOptions,
		task: URL | string,
	): Loop<TaskArgs<M>>;
	loop(
		options: LoopOptions<AnyLoop> & WorkerLoopOptions & ControllerLoopOptions,
		body: ((...args: readonly unknown[]) => unknown) | URL | string,
	): AnyLoop {
		if (this.#closing !== undefined) {
			throw new LoopStateError('This LoopController is closed', { code: ErrorCode.ControllerClosed });
		}
		if (options?.waitUntilReady !== undefined && typeof options.waitUntilReady !== 'boolean') {
			throw new InvalidOptionError(
				'waitUntilReady',
				`\`waitUntilReady\` must be a boolean, got ${describeValue(options.waitUntilReady)}`,
			);
		}
		if (options?.waitUntilReady && !this.client) {
			throw new InvalidOptionError('waitUntilReady', '`waitUntilReady` needs a client: new LoopController({ client })');
		}
		const client = this.client;
		const bridge = this.#bridge;
		// The loop's name is known only once createLoop has resolved it; the logger reads it at each record.
		let created: AnyLoop | undefined;
		const logger =
			options.logger ??
			this.#log.loopLogger(() => ({
				loop: created?.name ?? String(options.name),
				iteration: created?.currentLoop ?? 0,
			}));
		const engine = this.#engine;
		if (engine) {
			assertKeyPart(options?.name, 'name', 'A cluster loop needs a `name` that every process gives it: it');
			checkClusterLoopOptions(options as ClusterLoopOptions);
		}
		const { delivery, runOn, ...loopOptions } = options as typeof options & ClusterLoopOptions;
		const loop = createLoop({ ...(engine ? loopOptions : options), logger }, body, {
			extraKeys: [...CONTROLLER_LOOP_OPTION_KEYS],
			...(engine
				? {
						construct: (parts) =>
							new ClusterLoop(parts, engine, { ...(delivery ? { delivery } : {}), ...(runOn ? { runOn } : {}) }),
					}
				: {}),
			defaultPool: () => this.pool,
			dedicatedPoolOptions: () => this.#dedicatedPoolOptions(),
			discord: () => bridge,
			...(options.waitUntilReady && client ? { gate: (signal: AbortSignal) => whenReady(client, signal) } : {}),
		});
		if (this.#loops.has(loop.name)) {
			throw new LoopStateError(
				`A loop named '${loop.name}' already exists in this controller: give the loop a unique \`name\``,
				{ code: ErrorCode.LoopNameTaken },
			);
		}
		created = loop;
		this.#loops.set(loop.name, loop);
		this.#track(loop, body instanceof URL || typeof body === 'string');
		return loop;
	}

	#track(loop: AnyLoop, worker: boolean): void {
		const observer = new LoopObserver(loop, this.#log);
		const tracked: Tracked = { stats: observer.stats, worker, promise: undefined, args: [], untrack: () => {} };
		this.#tracked.set(loop, tracked);
		const listeners: { [E in keyof LoopEventMap]: (...args: LoopEventMap[E]) => void } = {
			loopStarted: () => {
				observer.loopStarted();
				this.emit('loopStarted', loop);
			},
			iterationStarted: (info) => {
				observer.iterationStarted(info);
				this.emit('iterationStarted', loop, info);
			},
			iterationCompleted: (info) => {
				observer.iterationCompleted(info);
				this.emit('iterationCompleted', loop, info);
			},
			iterationFailed: (info) => {
				observer.iterationFailed(info);
				if (info.error instanceof WorkerCrashedError) this.emit('workerCrashed', loop, info.error);
				this.emit('iterationFailed', loop, info);
			},
			reconnecting: (info) => this.emit('reconnecting', loop, info),
			loopStopped: (info) => {
				observer.loopStopped(info);
				// The next start() begins a new run; a queued one (restart) keeps the promise restart() gave.
				if (!loop.isRunning()) tracked.promise = undefined;
				this.emit('loopStopped', loop, info);
			},
		};
		const events = Object.keys(listeners) as (keyof LoopEventMap)[];
		for (const event of events) loop.on(event, listeners[event] as never);
		tracked.untrack = () => {
			for (const event of events) loop.off(event, listeners[event] as never);
		};
	}

	/** The loop with this name, if any. */
	get(name: string): AnyLoop | undefined {
		return this.#loops.get(name);
	}
	/** Every loop of this controller, in creation order. */
	list(): AnyLoop[] {
		return [...this.#loops.values()];
	}
	/** Removes a loop that is not running from the controller (its name becomes free). */
	delete(name: string): boolean {
		const loop = this.#loops.get(name);
		if (!loop) return false;
		if (loop.isRunning()) {
			throw new LoopStateError(`Loop '${name}' is running: cancel() it before deleting it`, {
				code: ErrorCode.LoopAlreadyRunning,
			});
		}
		this.#tracked.get(loop)?.untrack();
		this.#tracked.delete(loop);
		return this.#loops.delete(name);
	}

	#require(name: string): AnyLoop {
		if (this.#closing !== undefined) {
			throw new LoopStateError('This LoopController is closed', { code: ErrorCode.ControllerClosed });
		}
		const loop = this.#loops.get(name);
		if (!loop) {
			throw new LoopStateError(
				`No loop named '${name}' in this controller (loops: ${[...this.#loops.keys()].join(', ') || 'none'})`,
				{ code: ErrorCode.LoopNotFound },
			);
		}
		return loop;
	}

	/**
	 * Starts a loop by name, unless it is already running, however it was started (`loop.start()` included): then
	 * it returns a promise of the running run instead of throwing, so a `clientReady` handler that fires again (after
	 * a re-identify) never starts a loop twice.
	 *
	 * @param args - The loop's arguments, typed from the controller's `L` type parameter when it names the loop.
	 * @returns The run's promise, as `loop.start()` returns it.
	 * @throws {@link LoopStateError} (`ERR_LOOP_NOT_FOUND`)
	 */
	start<N extends string>(name: N, ...args: LoopArgs<L, N>): Promise<void> {
		const loop = this.#require(name);
		const tracked = this.#tracked.get(loop) as Tracked;
		if (loop.isRunning()) {
			tracked.promise ??= whenStopped(loop);
			return tracked.promise;
		}
		tracked.promise = loop instanceof ClusterLoop ? loop.startOrAttach(args) : loop.start(...args);
		tracked.args = args;
		return tracked.promise;
	}
	/** `loop.stop()` by name. */
	stop(name: string): void {
		this.#require(name).stop();
	}
	/** `loop.cancel()` by name. */
	cancel(name: string): void {
		this.#require(name).cancel();
	}
	/**
	 * `loop.restart(...args)` by name.
	 * @returns The new run's promise (what a later `start(name)` returns while it runs); a resolved promise when the
	 * loop was not running.
	 */
	restart<N extends string>(name: N, ...args: LoopArgs<L, N>): Promise<void> {
		const loop = this.#require(name);
		const tracked = this.#tracked.get(loop) as Tracked;
		const wasRunning = loop.isRunning();
		const promise = loop.restart(...args);
		if (wasRunning) tracked.promise = promise;
		tracked.args = args;
		return promise;
	}
	/**
	 * The arguments of the last `start()` or `restart()` of this loop through the controller (`[]` if none): what
	 * `/tasks restart` passes again.
	 * @throws {@link LoopStateError} (`ERR_LOOP_NOT_FOUND`)
	 */
	lastArgs(name: string): readonly unknown[] {
		return (this.#tracked.get(this.#require(name)) as Tracked).args;
	}
	/** `loop.changeInterval(options)` by name. */
	changeInterval(name: string, options: ScheduleOptions): void {
		this.#require(name).changeInterval(options);
	}

	/** A JSON-serialisable snapshot of every loop. */
	status(): LoopStatus[] {
		return this.list().map((loop) => {
			const tracked = this.#tracked.get(loop) as Tracked;
			return {
				name: loop.name,
				state: loop.state,
				running: loop.isRunning(),
				schedule: describeSchedule(loop),
				worker: tracked.worker,
				currentLoop: loop.currentLoop,
				nextIteration: loop.nextIteration?.toISOString() ?? null,
				...tracked.stats.snapshot(),
				...(loop instanceof ClusterLoop ? { cluster: loop.cluster } : {}),
			};
		});
	}

	/**
	 * Shuts down: stops every loop (a running iteration may finish), waits up to `closeTimeoutMs` for the runs to
	 * end, cancels those still running (terminating their workers), then closes the pool. Idempotent.
	 */
	close(options: { readonly timeoutMs?: number } = {}): Promise<void> {
		this.#closing ??= this.#close(options.timeoutMs ?? this.#closeTimeoutMs);
		return this.#closing;
	}

	/**
	 * With a `backend`: connects to it and checks its configuration (Redis reachable, the password accepted, no
	 * eviction), so that a bad set-up fails at start-up with an error that says what to do. Optional: the first
	 * loop connects anyway, and `start()` reports the same error. Without a backend it resolves at once.
	 * @throws {@link BackendError}
	 */
	async connect(): Promise<void> {
		await this.#engine?.connect();
	}

	async #close(timeoutMs: number): Promise<void> {
		if (this.#engine) {
			// The cluster's loops go on in the other processes: this one only leaves (its ticks may finish).
			this.#stopWaiting?.();
			await this.#engine.close(timeoutMs);
			await this.#pool?.close();
			return;
		}
		const loops = this.list();
		// A loop in the middle of an iteration may finish it; one that is sleeping or backing off ends now (a
		// stop() there would still wait for, and run, one more iteration: A17).
		for (const loop of loops) {
			if (loop.state === LoopState.Running) loop.stop();
			else loop.cancel();
		}
		await withDeadline(Promise.all(loops.map((loop) => whenStopped(loop).catch(() => {}))), timeoutMs);
		// Cancel what is still running (its workers are terminated after the pool's grace period). A hook that
		// never settles must not hold the shutdown forever: the wait is bounded again.
		await withDeadline(Promise.all(loops.map((loop) => loop[Symbol.asyncDispose]())), timeoutMs);
		await this.#pool?.close();
	}

	/** Same as {@link LoopController.close}. */
	[Symbol.asyncDispose](): Promise<void> {
		return this.close();
	}
}
