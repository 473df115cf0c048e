import { availableParallelism } from 'node:os';
import type { MessagePort, ResourceLimits } from 'node:worker_threads';
import { expose, type Remote, releaseProxy, wrap } from 'comlink';
import { Piscina } from 'piscina';
import type { ServiceMap } from '../protocol/index.js';
import {
	assertKnownKeys,
	assertMethods,
	assertNumber,
	assertOptionsObject,
	assertStringList,
	assertTimerMs,
	type Cloneable,
	DiscordTasksError,
	describeValue,
	deserializeError,
	ErrorCode,
	type HostApi,
	InvalidOptionError,
	type IterationOutcome,
	optionKeySet,
	PoolClosedError,
	PoolQueueFullError,
	PROTOCOL_VERSION,
	ProtocolError,
	portEndpoint,
	type RunIterationRequest,
	TaskAbortedError,
	type TaskControl,
	TaskError,
	TaskName,
	TaskTimeoutError,
	WORKER_HELLO,
	WorkerCrashedError,
	type WorkerHello,
} from '../protocol/index.js';
import { type Clock, systemClock } from './clock.js';
import { createHostApi, type DiscordBridge, type InvocationScope } from './host-api-impl.js';

/** Options of {@link TaskPool}. */
export interface TaskPoolOptions<S extends ServiceMap = ServiceMap> {
	/** The most worker threads. @defaultValue `max(1, availableParallelism() - 1)`: one core stays with the gateway */
	readonly threads?: number;
	/** Workers kept alive while idle. @defaultValue 0 */
	readonly minThreads?: number;
	/** How long an idle worker above `minThreads` lives. @defaultValue 60_000 */
	readonly idleTimeoutMs?: number;
	/** Iterations that may wait for a free worker before `run` is refused. @defaultValue 1000 */
	readonly maxQueue?: number;
	/** Functions tasks may call on the main thread (`ctx.host.name(...)`); arguments and results must be cloneable. */
	readonly services?: S;
	/** Heap and stack caps of each worker (`worker_threads` resource limits); past them the worker dies with an out-of-memory error. */
	readonly resourceLimits?: ResourceLimits;
	/**
	 * Environment variables the workers see, by name (an allowlist). Without it, workers see the main thread's
	 * environment minus `DISCORD_TOKEN` and the names in `scrubEnv`.
	 */
	readonly env?: readonly string[];
	/** More variable names to remove from the workers' environment (`DISCORD_TOKEN` always is). @defaultValue [] */
	readonly scrubEnv?: readonly string[];
	/** Node flags for the workers (e.g. `['--enable-source-maps']`). `.ts` tasks need none: see the README. */
	readonly execArgv?: readonly string[];
	/** How long a cancelled or timed-out body may take to stop by itself before its worker is terminated. @defaultValue 1000 */
	readonly graceMs?: number;
	/** A custom worker host (advanced; must speak this release's protocol). @defaultValue the bundled `worker-host.js` */
	readonly workerPath?: string | URL;
	/** Where the grace and timeout timers wait. @defaultValue systemClock */
	readonly clock?: Clock;
}

/** What one iteration needs besides the request. @internal */
export interface RunIterationOptions {
	readonly signal: AbortSignal;
	readonly scope: InvocationScope;
}

/** Defaults of {@link TaskPoolOptions}. */
export const DEFAULT_TASK_POOL_OPTIONS = {
	minThreads: 0,
	idleTimeoutMs: 60_000,
	maxQueue: 1000,
	graceMs: 1000,
} as const satisfies Partial<TaskPoolOptions>;

const POOL_OPTION_KEYS = optionKeySet<TaskPoolOptions>({
	threads: true,
	minThreads: true,
	idleTimeoutMs: true,
	maxQueue: true,
	services: true,
	resourceLimits: true,
	env: true,
	scrubEnv: true,
	execArgv: true,
	graceMs: true,
	workerPath: true,
	clock: true,
});

/** More threads than this is a typo: each worker is a V8 isolate of its own. */
const MAX_THREADS = 1024;

interface WorkerChannel {
	readonly control: Remote<TaskControl>;
	readonly ports: readonly MessagePort[];
}

/**
 * Validates TaskPool options without creating a pool.
 * @throws {@link InvalidOptionError} naming the option and the value it got.
 * @internal
 */
export function assertTaskPoolOptions(options: TaskPoolOptions): void {
	assertOptionsObject(options, 'TaskPool options');
	assertKnownKeys(options, POOL_OPTION_KEYS, 'TaskPool');
	for (const [key, min, max] of [
		['threads', 1, MAX_THREADS],
		['minThreads', 0, MAX_THREADS],
		['maxQueue', 0, Number.MAX_SAFE_INTEGER],
	] as const) {
		if (options[key] !== undefined) assertNumber(options[key], key, { min, max, integer: true });
	}
	assertTimerMs(options.idleTimeoutMs, 'idleTimeoutMs');
	assertTimerMs(options.graceMs, 'graceMs');
	assertStringList(options.env, 'env');
	assertStringList(options.scrubEnv, 'scrubEnv');
	assertStringList(options.execArgv, 'execArgv');
	const { resourceLimits, workerPath, clock } = options as Record<string, unknown>;
	if (resourceLimits !== undefined) {
		if (typeof resourceLimits !== 'object' || resourceLimits === null) {
			throw new InvalidOptionError(
				'resourceLimits',
				`\`resourceLimits\` must be an object like { maxOldGenerationSizeMb: 64 }, got ${describeValue(resourceLimits)}`,
			);
		}
		for (const [key, value] of Object.entries(resourceLimits)) {
			if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
				throw new InvalidOptionError(
					`resourceLimits.${key}`,
					`\`resourceLimits.${key}\` must be a positive number, got ${describeValue(value)}`,
				);
			}
		}
	}
	if (workerPath !== undefined && typeof workerPath !== 'string' && !(workerPath instanceof URL)) {
		throw new InvalidOptionError(
			'workerPath',
			`\`workerPath\` must be a path or a URL, got ${describeValue(workerPath)}`,
		);
	}
	assertMethods(clock, 'clock', ['now', 'sleep']);
	const services: unknown = options.services ?? {};
	if (typeof services !== 'object' || services === null) {
		throw new InvalidOptionError(
			'services',
			`\`services\` must be an object of functions, got ${describeValue(services)}`,
		);
	}
	for (const [name, service] of Object.entries(services as object)) {
		if (typeof service !== 'function') {
			throw new InvalidOptionError(
				`services.${name}`,
				`\`services.${name}\` must be a function, got ${describeValue(service)}`,
			);
		}
	}
}

/** The workers' environment: never the bot's token. */
function workerEnv(options: TaskPoolOptions): Record<string, string> {
	const env: Record<string, string> = {};
	const allow = options.env ? new Set(options.env) : undefined;
	const scrub = new Set(['DISCORD_TOKEN', ...(options.scrubEnv ?? [])]);
	for (const [name, value] of Object.entries(process.env)) {
		if (value === undefined || scrub.has(name)) continue;
		if (allow && !allow.has(name)) continue;
		env[name] = value;
	}
	return env;
}

const EXIT_CODE = /worker exited with code:? (-?\d+)/i;

/** The signal of timers armed after their iteration settled: already aborted, so they never start. */
const SETTLED_SIGNAL = AbortSignal.abort();

/**
 * A pool of worker threads that runs loop bodies (task modules), over piscina. Each worker gets two persistent
 * comlink channels when it starts: one for the main thread's services and Discord access, one to cancel a running
 * body. Everything that can go wrong with a worker comes back as one of our errors: {@link TaskError} (the body
 * threw), {@link WorkerCrashedError} (it exited, threw outside the body, ran out of memory),
 * {@link TaskTimeoutError}, {@link TaskAbortedError}.
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
	readonly #piscina: Piscina;
	readonly #channels = new Map<number, WorkerChannel>();
	readonly #scopes = new Map<number, InvocationScope>();
	readonly #hostApi: HostApi;
	readonly #graceMs: number;
	readonly #maxThreads: number;
	readonly #clock: Clock;
	#discord: DiscordBridge | undefined;
	/** Iterations submitted and not settled yet. */
	#inflight = 0;
	/** Resolves `close()`'s wait once `#inflight` drops to 0. */
	#onDrained: (() => void) | undefined;
	readonly #maxQueue: number;
	#protocolError: ProtocolError | undefined;
	#closed: Promise<void> | undefined;
	static #invocationIds = 0;

	/** @throws {@link InvalidOptionError} naming the option and the value it got. */
	constructor(options: TaskPoolOptions<S> = {}) {
		assertTaskPoolOptions(options);
		const services = options.services ?? ({} as S);
		const maxThreads = options.threads ?? Math.max(1, availableParallelism() - 1);
		const minThreads = Math.min(options.minThreads ?? DEFAULT_TASK_POOL_OPTIONS.minThreads, maxThreads);
		this.#maxThreads = maxThreads;
		this.#maxQueue = options.maxQueue ?? DEFAULT_TASK_POOL_OPTIONS.maxQueue;
		this.#graceMs = options.graceMs ?? DEFAULT_TASK_POOL_OPTIONS.graceMs;
		this.#clock = options.clock ?? systemClock;
		this.#hostApi = createHostApi({
			services,
			scope: (id) => this.#scopes.get(id),
			discord: () => this.#discord,
		});
		const filename = options.workerPath ?? new URL('./worker-host.js', import.meta.url);
		this.#piscina = new Piscina({
			filename: filename instanceof URL ? filename.href : filename,
			minThreads,
			maxThreads,
			idleTimeout: options.idleTimeoutMs ?? DEFAULT_TASK_POOL_OPTIONS.idleTimeoutMs,
			// One body per worker: an abortable task must own its worker, since aborting it terminates the thread.
			concurrentTasksPerWorker: 1,
			// piscina's Atomics.wait loop between tasks blocks the worker's event loop, which would stall the comlink
			// channels that services and cancellation use.
			atomics: 'disabled',
			env: workerEnv(options),
			...(options.execArgv ? { execArgv: [...options.execArgv] } : {}),
			...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
		});
		this.#piscina.on('message', (message: unknown) => this.#onWorkerMessage(message));
		this.#piscina.on('workerDestroy', (worker: { threadId: number }) => {
			this.#dropChannel(worker.threadId);
			// After the worker is gone from piscina's list (it emits this event just before removing it).
			queueMicrotask(() => this.#replaceLostWorker());
		});
		// A worker that fails with no task running surfaces as the pool's 'error' event; without a listener it
		// would crash the bot. Its tasks (if any) were already rejected and mapped.
		this.#piscina.on('error', () => {});
	}

	/** Worker threads alive right now. */
	get threads(): number {
		return this.#piscina.threads.length;
	}
	/** Iterations waiting for a free worker. */
	get queueSize(): number {
		return this.#piscina.queueSize;
	}
	/** Whether {@link TaskPool.close} was called. */
	get closed(): boolean {
		return this.#closed !== undefined;
	}

	/**
	 * Lets tasks reach Discord through a client on this thread (set by the LoopController).
	 * @internal
	 */
	bindDiscord(discord: DiscordBridge | undefined): void {
		this.#discord = discord;
	}

	/** A fresh correlation id for one iteration (a counter, never random). @internal */
	static nextInvocationId(): number {
		TaskPool.#invocationIds += 1;
		return TaskPool.#invocationIds;
	}

	/**
	 * Runs one iteration in a worker and maps every failure to our errors. The cancel `signal` (the loop's) first
	 * aborts the body's `ctx.signal`, then terminates its worker after the grace period; `timeoutMs` does the same.
	 * @internal
	 */
	runIteration(request: RunIterationRequest, options: RunIterationOptions): Promise<Cloneable> {
		if (this.#closed !== undefined) return Promise.reject(new PoolClosedError('The task pool is closed'));
		if (this.#protocolError) return Promise.reject(this.#protocolError);
		if (options.signal.aborted) {
			return Promise.reject(
				new TaskAbortedError(`Loop '${request.loopName}' was cancelled before its iteration started`, {
					cause: options.signal.reason,
				}),
			);
		}
		// piscina does not apply maxQueue to tasks that carry an abort signal (all of ours), so it is counted here.
		if (this.#inflight >= this.#maxThreads + this.#maxQueue) {
			return Promise.reject(
				new PoolQueueFullError(
					`The task pool is full: ${this.#inflight} iterations are running or waiting (threads ${this.#maxThreads} + maxQueue ${this.#maxQueue}); loop '${request.loopName}' will retry`,
				),
			);
		}
		this.#inflight += 1;
		return this.#run(request, options);
	}

	async #run(request: RunIterationRequest, options: RunIterationOptions): Promise<Cloneable> {
		const { invocationId, loopName, iteration, timeoutMs } = request;
		const kill = new AbortController();
		// Created only when a timer is armed (a timeout, or the grace period after a cancel): most iterations arm
		// none, and an AbortController plus the DOMException that abort() makes cost more than the no-op run itself.
		// Once the iteration has settled, a timer armed late (a timeout firing in the same turn) starts aborted.
		let timers: AbortController | undefined;
		let finished = false;
		const timerSignal = () => {
			if (finished) return SETTLED_SIGNAL;
			timers ??= new AbortController();
			return timers.signal;
		};
		let ended: 'timeout' | 'cancel' | undefined;
		const escalate = (reason: 'timeout' | 'cancel') => {
			if (ended) return;
			ended = reason;
			for (const channel of this.#channels.values()) {
				// Every worker is told: the one running this invocation aborts ctx.signal, the others ignore the id.
				channel.control.cancel(invocationId, reason).catch(() => {});
			}
			this.#clock.sleep(this.#graceMs, timerSignal()).then(
				() => kill.abort(reason),
				() => {},
			);
		};
		const onCancel = () => escalate('cancel');
		options.signal.addEventListener('abort', onCancel, { once: true });
		if (timeoutMs > 0) {
			this.#clock.sleep(timeoutMs, timerSignal()).then(
				() => escalate('timeout'),
				() => {},
			);
		}
		this.#scopes.set(invocationId, options.scope);
		try {
			let outcome: IterationOutcome;
			try {
				outcome = (await this.#piscina.run(request, {
					name: TaskName.RunIteration,
					signal: kill.signal,
				})) as IterationOutcome;
			} catch (error) {
				throw this.#mapRejection(error, { ended, loopName, iteration, timeoutMs, cause: options.signal.reason });
			}
			if (outcome.ok) return outcome.value;
			const thrown = deserializeError(outcome.error);
			if (ended === 'timeout') {
				throw new TaskTimeoutError(
					`Loop '${loopName}' iteration ${iteration} ran past its timeout of ${timeoutMs} ms (counted from its submission to the pool)`,
					{
						loopName,
						iteration,
						timeoutMs,
						cause: thrown,
					},
				);
			}
			// Module and protocol problems are not the body's failures: report them as they are.
			if (thrown instanceof DiscordTasksError && !isBodyError(thrown)) throw thrown;
			throw new TaskError(`Loop '${loopName}' iteration ${iteration} failed: ${describeThrown(thrown)}`, {
				loopName,
				iteration,
				cause: thrown,
			});
		} finally {
			finished = true;
			timers?.abort();
			options.signal.removeEventListener('abort', onCancel);
			this.#scopes.delete(invocationId);
			this.#inflight -= 1;
			if (this.#inflight === 0) this.#onDrained?.();
		}
	}

	#mapRejection(
		error: unknown,
		info: {
			ended: 'timeout' | 'cancel' | undefined;
			loopName: string;
			iteration: number;
			timeoutMs: number;
			cause: unknown;
		},
	): Error {
		const { loopName, iteration } = info;
		if (info.ended === 'timeout') {
			return new TaskTimeoutError(
				`Loop '${loopName}' iteration ${iteration} ran past its timeout of ${info.timeoutMs} ms (counted from its submission to the pool) and was aborted; a body still running had its worker terminated`,
				{ loopName, iteration, timeoutMs: info.timeoutMs, cause: error },
			);
		}
		if (info.ended === 'cancel') {
			return new TaskAbortedError(`Loop '${loopName}' was cancelled; its worker was terminated`, { cause: info.cause });
		}
		if (this.#closed !== undefined)
			return new PoolClosedError('The task pool was closed while the iteration ran', { cause: error });
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

	#onWorkerMessage(message: unknown): void {
		const hello = message as Partial<WorkerHello> | null;
		if (typeof hello !== 'object' || hello === null || hello.type !== WORKER_HELLO) return;
		const { hostPort, controlPort, threadId } = hello;
		if (!hostPort || !controlPort || typeof threadId !== 'number') {
			this.#protocolError = new ProtocolError(
				'A worker host sent a hello without its ports or thread id: the worker host (workerPath) does not speak this protocol',
				{ code: ErrorCode.ProtocolUnexpectedMessage },
			);
			return;
		}
		// A hello that arrives after its worker was destroyed must not leave a channel behind.
		if (!this.#piscina.threads.some((worker) => worker.threadId === threadId)) {
			hostPort.close();
			controlPort.close();
			return;
		}
		if (hello.protocolVersion !== PROTOCOL_VERSION) {
			this.#protocolError = new ProtocolError(
				`The worker host speaks protocol ${String(hello.protocolVersion)}, this main thread ${PROTOCOL_VERSION}: use the worker host of the same release (workerPath)`,
				{ code: ErrorCode.ProtocolVersionMismatch },
			);
		}
		expose(this.#hostApi, portEndpoint(hostPort));
		const control = wrap<TaskControl>(portEndpoint(controlPort));
		// The ports must not keep the bot's process alive once everything else is done.
		hostPort.unref();
		controlPort.unref();
		this.#channels.set(threadId, { control, ports: [hostPort, controlPort] });
	}

	/**
	 * piscina replaces a terminated or crashed worker only up to `minThreads` (0 by default), and starts a worker for
	 * queued work only inside `run()`: iterations queued behind a worker that was killed (timeout, cancel) or that
	 * crashed would wait for some later `run()`, forever if none comes. Submitting a task while work is queued makes
	 * piscina start a worker (up to `maxThreads`); aborting that task at once takes it off the queue again, so it never
	 * runs. With work queued no worker is idle, so the task cannot have been handed to one.
	 */
	#replaceLostWorker(): void {
		if (this.#closed !== undefined || this.#piscina.queueSize === 0 || this.#piscina.threads.length >= this.#maxThreads)
			return;
		const nudge = new AbortController();
		this.#piscina.run(null, { name: TaskName.InspectTask, signal: nudge.signal }).catch(() => {});
		nudge.abort();
	}

	#dropChannel(threadId: number): void {
		const channel = this.#channels.get(threadId);
		if (!channel) return;
		this.#channels.delete(threadId);
		channel.control[releaseProxy]();
		for (const port of channel.ports) port.close();
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
			await this.#piscina.destroy();
			for (const threadId of [...this.#channels.keys()]) this.#dropChannel(threadId);
		})();
		return this.#closed;
	}

	/** Same as {@link TaskPool.close}. */
	[Symbol.asyncDispose](): Promise<void> {
		return this.close();
	}
}

/** Errors of ours a body can legitimately throw (e.g. from `ctx.host` or `ctx.discord`) and that stay task failures. */
function isBodyError(error: DiscordTasksError): boolean {
	return (
		error.code !== ErrorCode.TaskModuleNotFound &&
		error.code !== ErrorCode.TaskModuleInvalid &&
		error.code !== ErrorCode.ProtocolVersionMismatch
	);
}

function describeThrown(thrown: unknown): string {
	if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
	return `a thrown ${thrown === null ? 'null' : typeof thrown} (${String(thrown)})`;
}
