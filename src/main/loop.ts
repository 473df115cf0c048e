import { assertKnownKeys, describeValue, ErrorCode, InvalidOptionError, LoopStateError } from '../protocol/index.js';
import { ExponentialBackoff } from './backoff.js';
import { type Clock, sleepUntil } from './clock.js';
import type { Executor } from './executor.js';
import {
	assertCount,
	assertFunction,
	type LoopErrorHook,
	type LoopHook,
	type LoopLogger,
	type ResolvedLoopOptions,
} from './loop-options.js';
import { ignore, isActive, isIterating, LoopRun, Phase } from './loop-run.js';
import { DEFAULT_EXCEPTION_TYPES, type ExceptionType, matchesExceptionType } from './retryable-errors.js';
import {
	firstTarget,
	isExplicit,
	MissedIterations,
	nextTarget,
	resolveSchedule,
	SCHEDULE_OPTION_KEYS,
	type Schedule,
	type ScheduleOptions,
	skipMissed,
} from './schedule.js';
import type { TimeOfDay } from './time-of-day.js';
import { type TimerCore, TimerEntry, timerCoreFor } from './timer-core.js';

/** Where a loop is in its life; `loop.state` and the controller's status report it. */
export const LoopState = {
	/** Not running. */
	Idle: 'idle',
	/** Running `beforeLoop`. */
	Starting: 'starting',
	/** Sleeping until the next target. */
	Waiting: 'waiting',
	/** Running the body. */
	Running: 'running',
	/** Sleeping the backoff delay after a retried failure. */
	Retrying: 'retrying',
	/** Running `afterLoop` and cleaning up. */
	Ending: 'ending',
} as const;
/** One of the {@link LoopState} values. */
export type LoopState = (typeof LoopState)[keyof typeof LoopState];

/** Why a run ended. */
export type LoopEndReason = 'completed' | 'stopped' | 'cancelled' | 'failed';

/** Events a loop emits (tuple-typed, discord.js style). Listeners run synchronously; a throwing listener is logged. */
export interface LoopEventMap {
	loopStarted: [];
	iterationStarted: [
		info: {
			readonly iteration: number;
			readonly target: Date | null;
			readonly retry: boolean;
			/** Start minus target, on the loop's clock: what the timer, the event loop and overruns added. */
			readonly latenessMs: number;
		},
	];
	iterationCompleted: [info: { readonly iteration: number; readonly durationMs: number; readonly result: unknown }];
	iterationFailed: [
		info: {
			readonly iteration: number;
			readonly durationMs: number;
			readonly error: unknown;
			readonly willRetry: boolean;
		},
	];
	reconnecting: [info: { readonly iteration: number; readonly error: unknown; readonly delayMs: number }];
	loopStopped: [info: { readonly reason: LoopEndReason; readonly error?: unknown }];
}

/** What a start-up await rejects with once the run is cancelled (never seen outside this file). */
const CANCELLED = Symbol('discord-tasks.cancelled');

/** Whether `cancel()` was called while the run was starting or iterating, and the run has not wrapped up yet. */
const isCancelling = (run: { readonly phase: Phase }): boolean => run.phase === Phase.Cancelling;

/** What `loop.state` reports for each phase. */
const STATE_OF_PHASE: Readonly<Record<Phase, LoopState>> = {
	starting: LoopState.Starting,
	waitBeforeBody: LoopState.Waiting,
	running: LoopState.Running,
	waitAfterBody: LoopState.Waiting,
	retrying: LoopState.Retrying,
	failing: LoopState.Running,
	cancelling: LoopState.Ending,
	ending: LoopState.Ending,
	endingCancelled: LoopState.Ending,
	done: LoopState.Idle,
};

/**
 * What a loop driven by another engine (the cluster backend) reads and writes of a {@link Loop}: its executor, its
 * schedule, its hooks and settings, and its event emitter. Read through {@link loopParts}.
 * @internal
 */
export interface LoopParts<Args extends readonly unknown[]> {
	readonly executor: Executor<Args>;
	readonly clock: Clock;
	readonly random: () => number;
	readonly logger: LoopLogger;
	readonly jitterMs: number;
	readonly missed: MissedIterations;
	readonly gate: ((signal: AbortSignal) => Promise<unknown>) | undefined;
	schedule(): Schedule;
	setSchedule(schedule: Schedule): void;
	beforeLoop(): LoopHook | undefined;
	afterLoop(): LoopHook | undefined;
	/** Calls the error hook (or logs); returns the error that ends the run (A12: a throwing hook replaces it). */
	reportError(error: unknown): Promise<unknown>;
	isRetryable(error: unknown): boolean;
	hears(event: keyof LoopEventMap): boolean;
	emit<E extends keyof LoopEventMap>(event: E, info?: LoopEventMap[E][0]): void;
}

let partsOf: <Args extends readonly unknown[]>(loop: Loop<Args>) => LoopParts<Args>;

/** The parts of a loop another engine drives it with. @internal */
export function loopParts<Args extends readonly unknown[]>(loop: Loop<Args>): LoopParts<Args> {
	return partsOf(loop);
}

interface PendingStart<Args> {
	args: Args;
	readonly resolve: (value: Promise<void>) => void;
	/** What `start()`/`restart()` returned for it: settles when the queued run ends. */
	promise?: Promise<void>;
}

/**
 * discord.py's `tasks.Loop`: runs a body on a schedule, with before/after/error hooks, retries with exponential
 * backoff, `count`, `stop`/`cancel`/`restart` and `changeInterval`, rule for rule (see docs/discordpy-parity.md).
 * Create one with {@link loop}.
 *
 * The run is a state machine over two seams: an {@link Executor} (where the body runs) and a {@link Clock}
 * (where time is read and waited for). On the system clock, a sleeping loop is one entry in the process's
 * {@link TimerCore} (no timer, promise or async frame of its own), and a synchronous body is called straight from
 * the core's timer; hooks, asynchronous bodies and a clock of the user's are awaited.
 *
 * Each run is in one phase; `state`, every public method and every wake-up read it, and only these transitions
 * change it:
 *
 * | phase | `state` | entered | left for | `start()` | `cancel()` |
 * | --- | --- | --- | --- | --- | --- |
 * | starting | starting | `start()` | waitBeforeBody or running (first target), done (cancelled, failed beforeLoop) | throws | abandons the gate/beforeLoop/yield: done, no afterLoop |
 * | waitBeforeBody | waiting | a time/cron loop sleeps to its target | running, ending (no target left) | throws | cancelling |
 * | running | running | the body is called | waitAfterBody (interval), waitBeforeBody (time/cron), retrying, ending (count, stop), failing | throws | cancelling |
 * | waitAfterBody | waiting | an interval loop sleeps after its body | running, ending (count) | throws | cancelling |
 * | retrying | retrying | backoff after a retried failure | running (the retry) | throws | cancelling |
 * | failing | running | an unretried error ended the iterations; the error hook runs | ending | throws | aborts `signal` only |
 * | cancelling | ending | `cancel()` during the iterations | endingCancelled | queues | no-op |
 * | ending | ending | completed, stopped or failed: `afterLoop` runs | done | queues | aborts `signal` only |
 * | endingCancelled | ending | `afterLoop` of a cancelled run (`isBeingCancelled()`) | done | queues | no-op |
 * | done | idle | `loopStopped` is emitted; a queued start launches | — | launches | no-op |
 *
 * `stop()` only marks the run (read after the next body); `changeInterval()` re-arms the sleep of a waiting phase.
 *
 * @typeParam Args - The arguments `start()` takes and every iteration receives.
 *
 * @example
 * ```ts
 * const ticker = loop({ seconds: 10 }, async (channelId: string) => {
 *   await client.channels.fetch(channelId).then((c) => c?.isSendable() && c.send('tick'));
 * });
 * ticker.beforeLoop(() => once(client, 'clientReady'));
 * ticker.start('123456789012345678');
 * ```
 */
export class Loop<Args extends readonly unknown[] = readonly unknown[]> {
	static {
		partsOf = <A extends readonly unknown[]>(loop: Loop<A>): LoopParts<A> => ({
			executor: loop.#executor,
			clock: loop.#clock,
			random: loop.#random,
			logger: loop.#logger,
			jitterMs: loop.#jitterMs,
			missed: loop.#missed,
			gate: loop.#gate,
			schedule: () => loop.#schedule,
			setSchedule: (schedule) => {
				loop.#schedule = schedule;
			},
			beforeLoop: () => loop.#beforeLoop,
			afterLoop: () => loop.#afterLoop,
			reportError: (error) => loop.#reportError(error),
			isRetryable: (error) => loop.#isRetryable(error),
			hears: (event) => loop.#hears(event),
			emit: (event, info) => loop.#emit(event, info),
		});
	}

	/** The loop's name (logs, errors, the controller). */
	readonly name: string;
	/** Retry matching errors with backoff (read live: a change applies to the next failure, C16). */
	reconnect: boolean;

	readonly #executor: Executor<Args>;
	readonly #clock: Clock;
	readonly #random: () => number;
	readonly #logger: LoopLogger;
	readonly #jitterMs: number;
	readonly #missed: MissedIterations;
	readonly #retryOn: ((error: unknown) => boolean) | undefined;
	#count: number | null;
	#schedule: Schedule;
	/** Shared with the defaults until changed: every change assigns a new array (a loop holds no copy of its own). */
	#exceptionTypes: readonly ExceptionType[] = DEFAULT_EXCEPTION_TYPES;
	#beforeLoop: LoopHook | undefined;
	#afterLoop: LoopHook | undefined;
	#onError: LoopErrorHook<Loop<Args>> | undefined;
	#listeners: Map<keyof LoopEventMap, Set<(...args: never[]) => void>> | undefined;
	readonly #gate: ((signal: AbortSignal) => Promise<unknown>) | undefined;

	#run: LoopRun<Args> | undefined;
	#pending: PendingStart<Args> | undefined;
	#currentLoop = 0;
	#failed = false;
	/**
	 * Target of the current/previous iteration; survives runs (I9). NaN, not null, for none: a number field stays a
	 * number field, so storing a target per firing allocates nothing.
	 */
	#last = Number.NaN;
	/** The following target, without jitter; NaN when there is none (a cron pattern that never fires again). */
	#next = Number.NaN;
	#jitter = 0;
	#lastAttemptFailed = false;
	/**
	 * What the loop sleeps on: its entry in the timer core (the system clock; kept for every later sleep), or the
	 * controller of the pending sleep on a user's clock.
	 */
	#wait: TimerEntry<Loop<Args>> | AbortController | undefined;

	/** @internal Use {@link loop}. */
	constructor(options: {
		readonly schedule: Schedule;
		readonly resolved: ResolvedLoopOptions;
		readonly executor: Executor<Args>;
		readonly defaultName: string;
		readonly beforeLoop?: LoopHook | undefined;
		readonly afterLoop?: LoopHook | undefined;
		readonly onError?: LoopErrorHook<Loop<Args>> | undefined;
		/**
		 * Awaited before `beforeLoop` in every run, cancellable like it (the controller's `waitUntilReady`); it gets
		 * the run's signal so it can drop its listeners when the run is cancelled.
		 */
		readonly gate?: ((signal: AbortSignal) => Promise<unknown>) | undefined;
	}) {
		const { resolved } = options;
		this.#schedule = options.schedule;
		this.#executor = options.executor;
		this.name = resolved.name ?? options.defaultName;
		this.reconnect = resolved.reconnect;
		this.#count = resolved.count;
		this.#clock = resolved.clock;
		this.#random = resolved.random;
		this.#logger = resolved.logger;
		this.#jitterMs = resolved.jitterMs;
		this.#missed = resolved.missedIterations;
		this.#retryOn = resolved.retryOn;
		this.#beforeLoop = options.beforeLoop;
		this.#afterLoop = options.afterLoop;
		this.#onError = options.onError;
		this.#gate = options.gate;
	}

	// ---- configuration ------------------------------------------------------------------------------------

	/** Interval seconds component, or `null` for a `time`/`cron` loop (C5, P7). */
	get seconds(): number | null {
		return this.#schedule.kind === 'interval' ? this.#schedule.seconds : null;
	}
	/** Interval minutes component, or `null` for a `time`/`cron` loop. */
	get minutes(): number | null {
		return this.#schedule.kind === 'interval' ? this.#schedule.minutes : null;
	}
	/** Interval hours component, or `null` for a `time`/`cron` loop. */
	get hours(): number | null {
		return this.#schedule.kind === 'interval' ? this.#schedule.hours : null;
	}
	/** A copy of the normalised times of day, or `null` for other loops (C13). */
	get time(): TimeOfDay[] | null {
		return this.#schedule.kind === 'time' ? this.#schedule.slots.map((slot) => ({ ...slot })) : null;
	}
	/** The cron pattern, or `null` for other loops. */
	get cron(): string | null {
		return this.#schedule.kind === 'cron' ? this.#schedule.cron.pattern : null;
	}
	/** How many successful iterations end a run; `null` for forever. Read live (C16). */
	get count(): number | null {
		return this.#count;
	}
	set count(value: number | null) {
		this.#count = assertCount(value);
	}

	/**
	 * Changes the schedule (discord.py's `change_interval`, I1–I10). Everything is validated before anything
	 * changes. Once a body has run, the next target is recomputed at once (an interval from the previous target,
	 * times of day and cron from now) and a pending sleep is re-armed to it; before that, the values are just
	 * stored for the run to use.
	 *
	 * @throws {@link InvalidOptionError} as `loop()` does for the same options.
	 */
	changeInterval(options: ScheduleOptions): this {
		if (typeof options !== 'object' || options === null || Array.isArray(options)) {
			throw new InvalidOptionError('options', '`changeInterval()` takes an options object, like `{ minutes: 5 }`');
		}
		// I1: the same validation as loop(), which refuses unknown keys; a typo such as `minute` must not silently
		// become an interval of 0.
		assertKnownKeys(options, SCHEDULE_OPTION_KEYS, 'changeInterval()');
		this.#schedule = resolveSchedule(options);
		const run = this.#run;
		if (run && run.phase !== Phase.Done && !Number.isNaN(this.#last)) {
			this.#setNext(
				this.#schedule.kind === 'interval'
					? this.#last + this.#schedule.intervalMs
					: nextTarget(this.#schedule, this.#last, this.#clock.now()),
			);
			// The backoff delay is not re-armed (I6): only a sleep towards a target is.
			if (run.phase === Phase.WaitBeforeBody || run.phase === Phase.WaitAfterBody) this.#sleepUntilNext(run, run.phase);
		}
		return this;
	}

	/** Registers the hook awaited before the first iteration of every run (replaces any previous one). */
	beforeLoop(hook: LoopHook): this {
		assertFunction(hook, 'beforeLoop');
		this.#beforeLoop = hook;
		return this;
	}
	/** Registers the hook awaited when a run ends, even by cancellation (replaces any previous one). */
	afterLoop(hook: LoopHook): this {
		assertFunction(hook, 'afterLoop');
		this.#afterLoop = hook;
		return this;
	}
	/** Registers the error hook (replaces the default, which logs the error with the loop's name). */
	onError(hook: LoopErrorHook<this>): this {
		assertFunction(hook, 'onError');
		this.#onError = hook as LoopErrorHook<Loop<Args>>;
		return this;
	}

	/**
	 * Adds exception types to retry with backoff (E8). All are checked before any is added. Errors thrown in
	 * a worker match by class name (the chain recorded where they were thrown).
	 * @throws {@link InvalidOptionError} when an argument is not an Error class.
	 */
	addExceptionType(...types: ExceptionType[]): this {
		types.forEach((type, index) => {
			if (typeof type !== 'function' || !(type.prototype instanceof Error || (type as unknown) === Error)) {
				throw new InvalidOptionError(
					`types[${index}]`,
					`\`addExceptionType()\` takes Error classes, got ${describeExceptionType(type)} at index ${index}${
						typeof type === 'string'
							? `: pass the class itself, addExceptionType(${type}) (a worker's errors match by class name)`
							: ''
					}`,
				);
			}
		});
		this.#exceptionTypes = [...this.#exceptionTypes, ...types];
		return this;
	}
	/**
	 * Removes every occurrence of each given type (exact identity). Returns whether as many entries were removed
	 * as types were given (E9, discord.py's quirky but documented result).
	 */
	removeExceptionType(...types: ExceptionType[]): boolean {
		const before = this.#exceptionTypes.length;
		this.#exceptionTypes = this.#exceptionTypes.filter((type) => !types.includes(type));
		return before - this.#exceptionTypes.length === types.length;
	}
	/** Retries nothing any more: every error ends the run through the error hook (E10). */
	clearExceptionTypes(): this {
		this.#exceptionTypes = [];
		return this;
	}
	/** The exception types retried with backoff, in order. */
	get exceptionTypes(): readonly ExceptionType[] {
		return [...this.#exceptionTypes];
	}

	// ---- state --------------------------------------------------------------------------------------------

	/** Where the loop is in its life. */
	get state(): LoopState {
		return this.#run ? STATE_OF_PHASE[this.#run.phase] : LoopState.Idle;
	}
	/** Whether a run is in progress or about to begin (P1): true during hooks, sleeps, body, backoff and cleanup. */
	isRunning(): boolean {
		return (this.#run !== undefined && this.#run.phase !== Phase.Done) || this.#pending !== undefined;
	}
	/** True only while a cancelled run is cleaning up, i.e. inside its `afterLoop` (P2). */
	isBeingCancelled(): boolean {
		return this.#run?.phase === Phase.EndingCancelled;
	}
	/** Whether the most recent run ended with an error; reset only by `start()` (P3). */
	failed(): boolean {
		return this.#failed;
	}
	/** The current iteration, 0-based; 0 outside a run (A11, P5). */
	get currentLoop(): number {
		return this.#currentLoop;
	}
	/** When the next iteration is due, or `null` when not running or a stop was requested (P6). */
	get nextIteration(): Date | null {
		const run = this.#run;
		if (!run || run.phase === Phase.Done || run.stopRequested || Number.isNaN(this.#next)) return null;
		return new Date(this.#next + this.#jitter);
	}
	/** Aborts when the current run is cancelled: pass it to `fetch` and friends inside a main-thread body. */
	get signal(): AbortSignal | undefined {
		return this.#run?.signal;
	}

	// ---- control ------------------------------------------------------------------------------------------

	/**
	 * Starts a run with `args`, passed to every iteration. Nothing runs synchronously (A1). While a previous run
	 * is winding down (cancelled, or in its `afterLoop`), the new run is queued behind it instead of throwing.
	 *
	 * @returns A promise that settles when the run ends: resolves on completion, `stop()` and `cancel()`, rejects
	 * with the error that ended it. It is already marked handled, so an unawaited failing loop never crashes the
	 * process with an unhandled rejection; the error hook reports it.
	 * @throws {@link LoopStateError} (`ERR_LOOP_ALREADY_RUNNING`) if a run is active.
	 * @throws {@link InvalidOptionError} if the executor refuses the arguments.
	 */
	start(...args: Args): Promise<void> {
		const run = this.#run;
		if (this.#pending || (run && isActive(run.phase))) {
			throw new LoopStateError(
				`Loop '${this.name}' is already running: stop() or cancel() it first, or use restart()`,
				{ code: ErrorCode.LoopAlreadyRunning },
			);
		}
		this.#executor.checkArgs?.(args);
		if (run && run.phase !== Phase.Done) {
			return this.#queue(args);
		}
		return this.#launch(args);
	}

	/**
	 * Asks the run to end after the current iteration (A17): during a sleep, one more iteration runs; failures
	 * being retried keep being retried until one succeeds. No effect when not running.
	 */
	stop(): void {
		const run = this.#run;
		if (run && isActive(run.phase)) run.stopRequested = true;
	}

	/**
	 * Cancels the run (A18): the pending await (sleep, body, backoff, `beforeLoop`) is abandoned, `signal` aborts
	 * (a worker body is aborted, then terminated after its grace period) and `afterLoop` runs with
	 * `isBeingCancelled()` true. No effect when not running or already cancelled.
	 */
	cancel(): void {
		const run = this.#run;
		if (!run || run.phase === Phase.Done || run.cancelled) return;
		run.cancel();
		// What follows runs after the signal's own listeners (an executor's, a body's fetch).
		if (isIterating(run.phase)) {
			this.#end(run, 'cancelled');
			return;
		}
		if (run.phase !== Phase.Starting) return; // failing or ending: the cleanup under way is not interrupted
		run.phase = Phase.Cancelling;
		if (run.abandon) run.abandon();
		// The A4 yield before the first body: the run ends without an iteration and without afterLoop (A5).
		else if (this.#disarm()) queueMicrotask(() => this.#finish(run, 'cancelled'));
		// Otherwise the start-up has not reached an await yet and sees the phase when it does.
	}

	/**
	 * Cancels the run and starts a new one with `args` once the old run's `afterLoop` and cleanup are done (A19).
	 * Does nothing when the loop is not running. Calling it again before the new run begins replaces the arguments.
	 *
	 * @returns The new run's promise, as `start()` returns it (handled the same way); a resolved promise when the
	 * loop was not running and nothing restarted.
	 */
	restart(...args: Args): Promise<void> {
		const run = this.#run;
		if (!run || run.phase === Phase.Done) return Promise.resolve();
		this.#executor.checkArgs?.(args);
		let promise: Promise<void>;
		if (this.#pending) {
			this.#pending.args = args;
			promise = this.#pending.promise as Promise<void>; // set by #queue, which made every pending start
		} else promise = this.#queue(args);
		this.cancel();
		return promise;
	}

	/** Queues a run with `args` to begin when the current one has cleaned up; returns its promise. */
	#queue(args: Args): Promise<void> {
		const promise = handled(
			new Promise<Promise<void>>((resolve) => (this.#pending = { args, resolve })).then((p) => p),
		);
		(this.#pending as PendingStart<Args>).promise = promise;
		return promise;
	}

	/** Cancels the loop and waits for the run (and any queued one) to end. */
	async [Symbol.asyncDispose](): Promise<void> {
		// A queued start (restart) will not happen: settle its promise as a run that ended at once.
		this.#pending?.resolve(Promise.resolve());
		this.#pending = undefined;
		this.cancel();
		await this.#run?.promise.catch(() => {});
	}

	// ---- events -------------------------------------------------------------------------------------------

	/** Adds a listener for one of the {@link LoopEventMap} events. */
	on<E extends keyof LoopEventMap>(event: E, listener: (...args: LoopEventMap[E]) => void): this {
		this.#listeners ??= new Map();
		let set = this.#listeners.get(event);
		if (!set) {
			set = new Set();
			this.#listeners.set(event, set);
		}
		set.add(listener as (...args: never[]) => void);
		return this;
	}
	/** Removes a listener added with {@link Loop.on}. */
	off<E extends keyof LoopEventMap>(event: E, listener: (...args: LoopEventMap[E]) => void): this {
		this.#listeners?.get(event)?.delete(listener as (...args: never[]) => void);
		return this;
	}
	/** Whether anyone listens: the per-iteration payloads (and their Dates) are built only then. */
	#hears(event: keyof LoopEventMap): boolean {
		return (this.#listeners?.get(event)?.size ?? 0) > 0;
	}

	/** Calls the listeners of `event` with `info` (every event has one argument or none; no rest array per call). */
	#emit<E extends keyof LoopEventMap>(event: E, info?: LoopEventMap[E][0]): void {
		const set = this.#listeners?.get(event);
		if (!set) return;
		for (const listener of set) {
			try {
				if (info === undefined) (listener as () => void)();
				else (listener as (argument: LoopEventMap[E][0]) => void)(info);
			} catch (error) {
				this.#logger.error(`A '${event}' listener of loop '${this.name}' threw`, error);
			}
		}
	}

	// ---- the run: start-up and wrap-up (awaited) -----------------------------------------------------------

	#launch(args: Args): Promise<void> {
		// Before anything is assigned: an executor that cannot start leaves the loop idle, not stuck "running".
		this.#executor.acquire?.();
		this.#failed = false;
		this.#currentLoop = 0;
		const run = new LoopRun(args, this.name);
		this.#run = run;
		// Only a throwing release() or a queued run's acquire() can get here: the run's promise reports it.
		this.#startUp(run).catch((error: unknown) => run.fail(error));
		return run.promise;
	}

	/**
	 * Awaits `value` unless the run is cancelled first: the emulation of asyncio delivering a cancellation at the
	 * next await (N3), for the awaits of the start-up. A value that has already settled wins over a cancel
	 * requested in the same turn, as a coroutine that does not suspend again finishes before the cancellation lands.
	 */
	#guard<T>(run: LoopRun<Args>, value: T | PromiseLike<T>): Promise<T> {
		return new Promise<T>((resolve, reject) => {
			const abandon = () => reject(CANCELLED);
			const settled = () => {
				if (run.abandon === abandon) run.abandon = undefined;
			};
			Promise.resolve(value).then(
				(result) => {
					settled();
					resolve(result);
				},
				(error: unknown) => {
					settled();
					reject(error);
				},
			);
			if (run.phase === Phase.Cancelling) queueMicrotask(abandon);
			else run.abandon = abandon;
		});
	}

	/** A1–A5: the gate, `beforeLoop`, the first target; then hands the run to the iterations. */
	async #startUp(run: LoopRun<Args>): Promise<void> {
		// A1: nothing of the run happens inside start().
		await null;
		if (run.phase !== Phase.Starting) return this.#finish(run, 'cancelled'); // A18: cancelled before its first step
		this.#emit('loopStarted');
		let explicit: boolean;
		try {
			if (this.#gate) await this.#guard(run, this.#gate(run.signal));
			if (this.#beforeLoop) await this.#guard(run, this.#beforeLoop());
			this.#lastAttemptFailed = false;
			// A4: the mode is read after beforeLoop, so a changeInterval() there decides it.
			explicit = isExplicit(this.#schedule);
			this.#setNext(explicit ? firstTarget(this.#schedule, this.#clock.now()) : this.#clock.now());
		} catch (error) {
			if (error === CANCELLED) return this.#finish(run, 'cancelled'); // A3/A5: no afterLoop
			// Deviation from A3: a failing beforeLoop is reported to the error hook instead of vanishing.
			this.#failed = true;
			return this.#finish(run, 'failed', await this.#reportError(error));
		}
		// (A function call: the compiler would keep the phase narrowed to the one checked before the awaits.)
		if (isCancelling(run)) {
			// cancel() inside a beforeLoop that did not suspend: a time/cron loop cleans up as after a cancelled
			// sleep (A5); an interval loop ends before its first body, as its A4 yield would have been abandoned.
			if (explicit) return this.#end(run, 'cancelled');
			return this.#finish(run, 'cancelled');
		}
		if (explicit) {
			this.#proceed(run);
			return;
		}
		// An interval loop's first body runs at once, after one zero-length yield that lets a cancel() issued in
		// beforeLoop prevent it (A5). An await, not a timer: the first iteration is due now, and under fake timers
		// (vitest's, node:test's mock timers) a zero-length timer would hold it until the test advanced time.
		await null;
		if (isCancelling(run)) return this.#finish(run, 'cancelled');
		// The first target is now, when the first body runs, not when the yield began.
		this.#next = this.#clock.now();
		this.#proceed(run);
	}

	/** Ends the iterations (after `cancel()`, `stop()`, `count`, the last cron fire or an unretried error). */
	#end(run: LoopRun<Args>, reason: LoopEndReason, error?: unknown): void {
		this.#disarm();
		run.phase = reason === 'cancelled' ? Phase.Cancelling : reason === 'failed' ? Phase.Failing : Phase.Ending;
		this.#wrapUp(run, reason, error).catch((failure: unknown) => run.fail(failure));
	}

	/** The error hook (of a failure), `afterLoop` and the A14 cleanup. */
	async #wrapUp(run: LoopRun<Args>, reason: LoopEndReason, error: unknown): Promise<void> {
		// Never on the stack of cancel(), of a body or of the timer core: the hooks run as their own step.
		await null;
		let failure: unknown;
		if (reason === 'failed') {
			this.#failed = true; // P3: set before the error hook runs
			failure = await this.#reportError(error);
		}
		run.phase = reason === 'cancelled' ? Phase.EndingCancelled : Phase.Ending;
		// A14 cleanup. Deviation from A15: it runs even when afterLoop throws or is cancelled.
		try {
			if (this.#afterLoop) await this.#afterLoop();
		} catch (hookError) {
			this.#failed = true;
			reason = 'failed';
			failure = await this.#reportError(hookError);
		}
		this.#disarm();
		this.#currentLoop = 0;
		this.#finish(run, reason, failure);
	}

	#finish(run: LoopRun<Args>, reason: LoopEndReason, error?: unknown): void {
		run.phase = Phase.Done;
		this.#emit('loopStopped', reason === 'failed' ? { reason, error } : { reason });
		const release = this.#executor.release?.();
		if (release !== undefined)
			void release.catch((e: unknown) => this.#logger.error(`Releasing loop '${this.name}' failed`, e));
		const pending = this.#pending;
		if (pending) {
			this.#pending = undefined;
			pending.resolve(this.#launch(pending.args));
		}
		if (reason === 'failed') run.fail(error);
		else run.resolve();
	}

	// ---- the run: iterations (called from the timer, no promise unless the body returns one) ----------------

	/** A6, then the first iteration (or the sleep before it). */
	#proceed(run: LoopRun<Args>): void {
		if (run.stopRequested) {
			// A6
			this.#end(run, 'stopped');
			return;
		}
		this.#nextStep(run);
	}

	/** The top of an iteration: a time/cron loop sleeps to its target first; an interval loop (or a retry) runs. */
	#nextStep(run: LoopRun<Args>): void {
		const explicit = isExplicit(this.#schedule);
		if (explicit && Number.isNaN(this.#next)) {
			// a cron pattern with no future fire
			this.#end(run, 'completed');
			return;
		}
		// E4 deviation: a retry runs right after its backoff delay, not at the following slot (no double run).
		if (explicit && !this.#lastAttemptFailed) {
			this.#sleepUntilNext(run, Phase.WaitBeforeBody);
			return;
		}
		this.#runBody(run);
	}

	/** What a wake-up does, by phase. Errors end the run as a failure would (the iterations cannot throw). */
	#woken(run: LoopRun<Args>): void {
		try {
			switch (run.phase) {
				case Phase.Starting:
					// The zero-length yield is over: an interval loop's first target is now, when its first body runs (as
					// in discord.py, which has no such yield), not when the yield began: 10,000 loops starting together
					// would otherwise start their grids late and skip their second target.
					if (!isExplicit(this.#schedule)) this.#next = this.#clock.now();
					this.#proceed(run);
					return;
				case Phase.WaitBeforeBody:
					// changeInterval() during the sleep may have switched to a cron pattern that never fires again.
					if (Number.isNaN(this.#next)) {
						this.#end(run, 'completed');
						return;
					}
					this.#runBody(run);
					return;
				case Phase.WaitAfterBody:
					this.#afterIteration(run);
					return;
				case Phase.Retrying:
					this.#runBody(run);
					return;
			}
		} catch (error) {
			this.#fail(run, error);
		}
	}

	#fail(run: LoopRun<Args>, error: unknown): void {
		// After a cancel the run has ended already: nothing that happens later is reported.
		if (isIterating(run.phase)) this.#end(run, 'failed', error);
	}

	#runBody(run: LoopRun<Args>): void {
		const now = this.#clock.now();
		if (!this.#lastAttemptFailed) {
			this.#last = Number.isNaN(this.#next) ? now : this.#next;
			this.#setNext(this.#following(this.#last, now));
		} else if (isExplicit(this.#schedule) || this.#missed === MissedIterations.Skip) {
			// A retry stands for the target whose attempt failed, so the loop goes on with the first target after
			// it: E4 deviation (a time/cron loop runs the following slot once, not twice, even when the backoff
			// reached or passed it) and E3 with `skip` (no catch-up burst). `catchUp` keeps `next`, as discord.py.
			const following = isExplicit(this.#schedule)
				? nextTarget(this.#schedule, now, now)
				: this.#following(Number.isNaN(this.#last) ? now : this.#last, now);
			if (following !== (Number.isNaN(this.#next) ? null : this.#next)) this.#setNext(following);
		}
		const iteration = this.#currentLoop;
		const retry = this.#lastAttemptFailed;
		run.phase = Phase.Running;
		const startedAt = this.#clock.now();
		const target = Number.isNaN(this.#last) ? startedAt : this.#last;
		if (this.#hears('iterationStarted'))
			this.#emit('iterationStarted', { iteration, target: new Date(target), retry, latenessMs: startedAt - target });
		// A listener may have cancelled the loop: do not hand the executor work that is already cancelled.
		if (run.phase !== Phase.Running) return;
		run.iteration = iteration;
		run.target = target;
		run.retry = retry;
		let result: unknown;
		try {
			result = this.#executor.execute(run);
		} catch (error) {
			this.#bodyFailed(run, iteration, startedAt, error);
			return;
		}
		// A synchronous body has finished already: no promise, and no cancellation can land (N3).
		if (!isThenable(result)) {
			this.#bodyDone(run, iteration, startedAt, result);
			return;
		}
		this.#awaitBody(run, iteration, startedAt, result);
	}

	/**
	 * The asynchronous body's continuation. A method of its own: closures inside `#runBody` would make every firing
	 * allocate their shared context, even the synchronous ones that never create them.
	 */
	#awaitBody(run: LoopRun<Args>, iteration: number, startedAt: number, result: PromiseLike<unknown>): void {
		Promise.resolve(result).then(
			(value) => {
				// A cancel() while the body was pending ended the run: its result no longer matters (N3).
				if (run.phase !== Phase.Running) return;
				try {
					this.#bodyDone(run, iteration, startedAt, value);
				} catch (error) {
					this.#fail(run, error);
				}
			},
			(error: unknown) => {
				try {
					this.#bodyFailed(run, iteration, startedAt, error);
				} catch (hookError) {
					this.#fail(run, hookError);
				}
			},
		);
	}

	#bodyDone(run: LoopRun<Args>, iteration: number, startedAt: number, result: unknown): void {
		if (this.#hears('iterationCompleted')) {
			this.#emit('iterationCompleted', { iteration, durationMs: this.#clock.now() - startedAt, result });
		}
		// cancel() inside a synchronous body (or a listener) has ended the run.
		if (run.phase !== Phase.Running) return;
		this.#lastAttemptFailed = false;
		if (run.stopRequested) {
			// A17: no sleep, no increment
			this.#end(run, 'stopped');
			return;
		}
		if (isExplicit(this.#schedule)) {
			this.#afterIteration(run);
			return;
		}
		this.#sleepUntilNext(run, Phase.WaitAfterBody);
	}

	#bodyFailed(run: LoopRun<Args>, iteration: number, startedAt: number, error: unknown): void {
		if (run.phase !== Phase.Running) return; // cancelled meanwhile: the failure of an abandoned body is not seen
		const willRetry = this.reconnect && this.#isRetryable(error);
		this.#emit('iterationFailed', { iteration, durationMs: this.#clock.now() - startedAt, error, willRetry });
		if (!willRetry) {
			this.#fail(run, error);
			return;
		}
		// A7.5: retry after a backoff delay, without counting the attempt and without checking stop().
		this.#lastAttemptFailed = true;
		run.backoff ??= new ExponentialBackoff({ random: this.#random, now: () => this.#clock.now() }); // A2
		const delayMs = run.backoff.delay();
		this.#logger.warn(`Handling exception in loop '${this.name}'. Retrying in ${(delayMs / 1000).toFixed(2)}s`, error);
		this.#emit('reconnecting', { iteration, error, delayMs });
		if (run.phase !== Phase.Running) return;
		run.phase = Phase.Retrying;
		this.#sleepFor(delayMs);
	}

	/** After a body and (interval) its sleep: count it, then the next iteration unless the run is complete. */
	#afterIteration(run: LoopRun<Args>): void {
		this.#currentLoop += 1;
		// A11. `>=` rather than discord.py's `==`: lowering `count` below the current iteration mid-run ends the
		// run instead of making it endless.
		if (this.#count !== null && this.#currentLoop >= this.#count) {
			this.#end(run, 'completed');
			return;
		}
		if (Number.isNaN(this.#next)) {
			// a cron pattern with no future fire
			this.#end(run, 'completed');
			return;
		}
		this.#nextStep(run);
	}

	/**
	 * The target after an iteration whose own target is `last` and which starts at `now` (A7.2), with the
	 * missed-iterations policy applied: in `skip` mode a late iteration is followed by the next grid point.
	 */
	#following(last: number, now: number): number | null {
		const next = nextTarget(this.#schedule, last, now);
		return next === null ? null : skipMissed(this.#schedule, next, now, this.#missed);
	}

	#setNext(target: number | null): void {
		this.#next = target ?? Number.NaN;
		this.#jitter = target !== null && this.#jitterMs > 0 ? this.#random() * this.#jitterMs : 0;
	}

	// ---- the run: sleeping ---------------------------------------------------------------------------------

	/**
	 * Sleeps in `phase` until `#next` (+ jitter), never before it; `changeInterval()` calls it again to re-arm.
	 * Without a next target there is nothing to wait for: the phase's wake-up runs at once.
	 */
	#sleepUntilNext(run: LoopRun<Args>, phase: Phase): void {
		run.phase = phase;
		if (Number.isNaN(this.#next)) {
			this.#disarm();
			this.#woken(run);
			return;
		}
		const target = this.#next + this.#jitter;
		const core = timerCoreFor(this.#clock);
		if (core) core.schedule(this.#timerEntry(), target);
		else this.#sleepOnClock(sleepUntil(this.#clock, target, this.#newClockWait()));
	}

	/** A plain sleep of `ms` that `changeInterval()` does not touch: the backoff delay (I6), the A4 yield. */
	#sleepFor(ms: number): void {
		const core = timerCoreFor(this.#clock);
		if (core) core.schedule(this.#timerEntry(), this.#clock.now() + ms);
		else this.#sleepOnClock(this.#clock.sleep(Math.max(0, ms), this.#newClockWait()));
	}

	/** On the system clock, `#wait` holds the loop's entry in the timer core, made once and reused for every sleep. */
	#timerEntry(): TimerEntry<Loop<Args>> {
		this.#wait ??= new TimerEntry<Loop<Args>>(Loop.#wakeUp, this);
		return this.#wait as TimerEntry<Loop<Args>>;
	}

	/** What the timer core calls: one function for every loop, so a loop's entry holds no closure of its own. */
	static #wakeUp<A extends readonly unknown[]>(loop: Loop<A>): void {
		const run = loop.#run;
		if (run) loop.#woken(run);
	}

	/** On a user's clock, `#wait` holds the controller of the pending sleep, aborted to disarm it. */
	#newClockWait(): AbortSignal {
		this.#disarm();
		const controller = new AbortController();
		this.#wait = controller;
		return controller.signal;
	}

	/** A sleep on a user's clock: a promise per sleep (the slower path the Clock seam allows). */
	#sleepOnClock(sleeping: Promise<void>): void {
		const wait = this.#wait;
		sleeping.then(
			() => {
				if (this.#wait !== wait) return; // disarmed or re-armed meanwhile
				this.#wait = undefined;
				const run = this.#run;
				if (run) this.#woken(run);
			},
			(error: unknown) => {
				if (this.#wait !== wait) return;
				this.#wait = undefined;
				const run = this.#run;
				if (run) this.#fail(run, error);
			},
		);
	}

	/** Drops the pending sleep, if any; returns whether there was one. */
	#disarm(): boolean {
		const wait = this.#wait;
		if (wait instanceof TimerEntry) {
			const core = timerCoreFor(this.#clock) as TimerCore;
			if (!core.has(wait)) return false;
			core.cancel(wait);
			return true;
		}
		if (!wait) return false;
		this.#wait = undefined;
		wait.abort(CANCELLED);
		return true;
	}

	#isRetryable(error: unknown): boolean {
		if (this.#exceptionTypes.some((type) => matchesExceptionType(error, type))) return true;
		return this.#retryOn?.(error) === true;
	}

	async #reportError(error: unknown): Promise<unknown> {
		try {
			if (this.#onError) await this.#onError(error, this);
			else this.#logger.error(`Unhandled exception in loop '${this.name}'`, error);
			return error;
		} catch (hookError) {
			// A12: an error hook that throws replaces the original error (which becomes its cause if it has none,
			// as Python keeps it as the context).
			if (
				hookError !== error &&
				hookError instanceof Error &&
				!Object.hasOwn(hookError, 'cause') &&
				Object.isExtensible(hookError)
			) {
				Object.defineProperty(hookError, 'cause', { value: error, writable: true, configurable: true });
			}
			return hookError;
		}
	}
}

/** What `addExceptionType()` got instead of an Error class. */
function describeExceptionType(type: unknown): string {
	return typeof type === 'function'
		? `the function ${type.name || '(anonymous)'}, which does not extend Error`
		: describeValue(type);
}

/** Whether `value` is a promise or promise-like (what `await` would wait for). @internal */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
	return (
		(typeof value === 'object' || typeof value === 'function') &&
		value !== null &&
		typeof (value as { then?: unknown }).then === 'function'
	);
}

/** Marks a promise as handled (the caller may still await it) and returns it. */
function handled<T>(promise: Promise<T>): Promise<T> {
	promise.catch(ignore);
	return promise;
}
