import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServiceMap } from '../protocol/index.js';
import {
	type Cloneable,
	type MainToProcessMessage,
	PoolClosedError,
	type RunIterationRequest,
	TaskAbortedError,
	WorkerCrashedError,
} from '../protocol/index.js';
import { type Clock, systemClock } from './clock.js';
import { HostServer } from './host-server.js';
import {
	type IterationCall,
	type IterationTransport,
	type KillSignal,
	type RunIterationOptions,
	superviseIteration,
} from './iteration-supervisor.js';
import { DEFAULT_TASK_POOL_OPTIONS, type TaskPoolOptions, workerEnv } from './task-pool-options.js';

/** Why a task process went away, as the rejection of its iteration. */
class ProcessExit extends Error {
	readonly exitCode: number | null;
	readonly signal: NodeJS.Signals | null;
	constructor(exitCode: number | null, signal: NodeJS.Signals | null) {
		super(signal ? `the task process was killed by ${signal}` : `the task process exited with code ${exitCode}`);
		this.exitCode = exitCode;
		this.signal = signal;
	}
}

/** The iteration a task process is running. */
interface Running {
	readonly invocationId: string;
	readonly resolve: (outcome: unknown) => void;
	readonly reject: (error: unknown) => void;
}

/**
 * Runs one loop's iterations in a child process of its own (`isolation: 'process'`): a separate address space,
 * started with an environment that has no bot token and with none of the bot's memory, so a task, or a
 * dependency it pulls in, cannot read the token at all. Discord and services are reached over IPC through the same
 * host API and allowlist as a worker thread; crashes, timeouts and cancels behave as in a worker (a cancelled or
 * timed-out body that ignores `ctx.signal` has its process killed after `graceMs`). The process is started on the
 * first iteration and again after one dies; it also serves native addons that cannot load in worker threads.
 * @internal
 */
export class ProcessPool {
	readonly #options: TaskPoolOptions;
	readonly #server: HostServer;
	readonly #clock: Clock;
	readonly #graceMs: number;
	readonly #transport: IterationTransport;
	#child: ChildProcess | undefined;
	#ready: Promise<ChildProcess> | undefined;
	#running: Running | undefined;
	/** Iterations run one after another; this is the last one's settlement. */
	#tail: Promise<unknown> = Promise.resolve();
	#closed = false;

	constructor(options: TaskPoolOptions<ServiceMap>) {
		this.#options = options;
		this.#server = new HostServer(options.services ?? {});
		this.#clock = options.clock ?? systemClock;
		this.#graceMs = options.graceMs ?? DEFAULT_TASK_POOL_OPTIONS.graceMs;
		this.#transport = {
			start: (request, kill) => this.#start(request, kill),
			cancel: (invocationId, reason) => this.#send({ type: 'cancel', invocationId, reason }),
			crash: (error, request) => this.#crashError(error, request),
		};
	}

	/** Runs one iteration in the task process; the same contract as `TaskPool.runIteration`. */
	runIteration(call: IterationCall, options: RunIterationOptions): Promise<Cloneable> {
		if (this.#closed) return Promise.reject(new PoolClosedError('The task process of this loop is closed'));
		if (options.signal.aborted) {
			return Promise.reject(
				new TaskAbortedError(`Loop '${call.loopName}' was cancelled before its iteration started`, {
					cause: options.signal.reason,
				}),
			);
		}
		const run = this.#tail.then(() =>
			superviseIteration(this.#server, this.#transport, call, {
				...options,
				clock: this.#clock,
				graceMs: this.#graceMs,
			}),
		);
		this.#tail = run.catch(() => {});
		return run;
	}

	async #start(request: RunIterationRequest, kill: KillSignal): Promise<unknown> {
		const child = await this.#spawned();
		if (kill.aborted) {
			child.kill('SIGKILL');
			throw new ProcessExit(null, 'SIGKILL');
		}
		const onKill = () => child.kill('SIGKILL');
		kill.addEventListener('abort', onKill, { once: true });
		child.ref();
		(child.channel as { ref?: () => void } | undefined)?.ref?.();
		try {
			return await new Promise<unknown>((resolve, reject) => {
				this.#running = { invocationId: request.invocationId, resolve, reject };
				this.#send({ type: 'run', request });
			});
		} finally {
			this.#running = undefined;
			kill.removeEventListener('abort', onKill);
			if (this.#child === child) {
				// An idle task process must not keep the bot's process alive.
				child.unref();
				(child.channel as { unref?: () => void } | undefined)?.unref?.();
			}
		}
	}

	/** The task process, started (and waited for) if there is none. */
	#spawned(): Promise<ChildProcess> {
		this.#ready ??= new Promise<ChildProcess>((resolve, reject) => {
			const { execArgv = [], resourceLimits } = this.#options;
			const heap = resourceLimits?.maxOldGenerationSizeMb;
			// Not the bot's own flags, in execArgv or NODE_OPTIONS: a `--require dotenv/config` there would load the
			// token into the task process. Flags it needs go in the loop's pool `execArgv`.
			const env = workerEnv(this.#options);
			delete env['NODE_OPTIONS'];
			const child = fork(fileURLToPath(new URL('./process-host.cjs', import.meta.url)), [], {
				env,
				execArgv: [...execArgv, ...(heap === undefined ? [] : [`--max-old-space-size=${heap}`])],
				serialization: 'advanced',
				stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
			});
			this.#child = child;
			// The process broke the protocol (or flooded it): it harms only itself, its iteration fails as a crash.
			const calls = this.#server.connect(
				child,
				(reply) => this.#send(reply),
				() => child.kill('SIGKILL'),
			);
			child.on('message', (message: unknown) => {
				const type = (message as { type?: unknown } | null)?.type;
				if (type === 'hello') resolve(child);
				else if (type === 'outcome') this.#settle(message as { invocationId?: unknown; outcome?: unknown });
				else calls(message);
			});
			child.once('exit', (code, signal) => {
				if (this.#child === child) {
					this.#child = undefined;
					this.#ready = undefined;
				}
				const exit = new ProcessExit(code, signal);
				reject(exit);
				this.#running?.reject(exit);
			});
			child.on('error', () => {
				// A failed spawn or IPC error: the 'exit' that follows (or the missing hello) reports it.
			});
		});
		return this.#ready;
	}

	#settle(message: { invocationId?: unknown; outcome?: unknown }): void {
		if (this.#running && message.invocationId === this.#running.invocationId) this.#running.resolve(message.outcome);
	}

	#send(message: MainToProcessMessage): void {
		const child = this.#child;
		if (!child?.connected) return;
		child.send(message, (error) => {
			// A message that cannot be sent means the process is going away; its exit settles the iteration.
			if (error) child.kill('SIGKILL');
		});
	}

	#crashError(error: unknown, { loopName, token }: RunIterationRequest): Error {
		if (this.#closed)
			return new PoolClosedError('The task process was closed while the iteration ran', { cause: error });
		const violation = this.#server.violationOf(token);
		if (violation !== undefined) {
			return new WorkerCrashedError(
				`The task process running loop '${loopName}' broke the host protocol (${violation}) and was killed`,
				{ reason: 'broke the host protocol', cause: error },
			);
		}
		if (error instanceof ProcessExit) {
			const reason = error.signal ? `killed by ${error.signal}` : `exited with code ${error.exitCode}`;
			return new WorkerCrashedError(`The task process running loop '${loopName}' ${reason}`, {
				reason,
				...(error.exitCode === null ? {} : { exitCode: error.exitCode }),
				cause: error,
			});
		}
		return new WorkerCrashedError(`The task process running loop '${loopName}' failed: ${String(error)}`, {
			reason: 'uncaught error',
			cause: error,
		});
	}

	/** Waits for the running iteration (if any), then ends the task process. Idempotent. */
	async close(): Promise<void> {
		this.#closed = true;
		await this.#tail;
		const child = this.#child;
		if (!child || child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise((resolve) => child.once('exit', resolve));
		// The process exits by itself once its IPC channel is gone.
		if (child.connected) child.disconnect();
		else child.kill('SIGKILL');
		await exited;
	}
}
