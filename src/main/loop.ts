import { assertKnownKeys, ErrorCode, InvalidOptionError, LoopStateError, TaskAbortedError } from '../protocol/index.js';
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

/** What the run's internal waits reject with once it is cancelled (never seen outside this file). */
const CANCELLED = Symbol('discord-tasks.cancelled');
const REARM = Symbol('discord-tasks.rearm');

interface Run<Args> {
	readonly args: Args;
	readonly controller: AbortController;
	/** Settles when the run has ended (handled: never rejects unobserved). */
	promise: Promise<void>;
	cancelRequested: boolean;
	ending: boolean;
	done: boolean;
	/** Rejecters of the awaits `#guard` is watching; `cancel()` calls them. */
	readonly guards: Set<() => void>;
}

interface PendingStart<Args> {
	args: Args;
	readonly resolve: (value: Promise<void>) => void;
}

/**
 * discord.py's `tasks.Loop`: runs a body on a schedule, with before/after/error hooks, retries with exponential
 * backoff, `count`, `stop`/`cancel`/`restart` and `changeInterval`, rule for rule (see docs/discordpy-parity.md).
 * Create one with {@link loop}.
 *
 * The run is a state machine over two seams: an {@link Executor} (where the body runs) and a {@link Clock}
 * (where time is read and waited for). It knows nothing else about either.
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
	#exceptionTypes: ExceptionType[] = [...DEFAULT_EXCEPTION_TYPES];
	#beforeLoop: LoopHook | undefined;
	#afterLoop: LoopHook | undefined;
	#onError: LoopErrorHook<Loop<Args>> | undefined;
	#listeners: Map<keyof LoopEventMap, Set<(...args: never[]) => void>> | undefined;
	readonly #gate: ((signal: AbortSignal) => Promise<unknown>) | undefined;

	#run: Run<Args> | undefined;
	#pending: PendingStart<Args> | undefined;
	#state: LoopState = LoopState.Idle;
	#currentLoop = 0;
	#failed = false;
	#beingCancelled = false;
	#stopRequested = false;
	/** Target of the current/previous iteration; survives runs (I9). */
	#last: number | null = null;
	/** The following target, without jitter. */
	#next: number | null = null;
	#jitter = 0;
	#lastAttemptFailed = false;
	#sleep: { readonly controller: AbortController; readonly rearmable: boolean } | undefined;
	/** The controller `#sleepUntilNext` reuses until a re-arm or a cancel aborts it. */
	#sleepController: AbortController | undefined;

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
		if (run && !run.done && this.#last !== null) {
			this.#setNext(
				this.#schedule.kind === 'interval'
					? this.#last + this.#schedule.intervalMs
					: nextTarget(this.#schedule, this.#last, this.#clock.now()),
			);
			if (this.#sleep?.rearmable) this.#sleep.controller.abort(REARM);
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
					`\`addExceptionType()\` takes Error classes, got ${typeof type === 'function' ? `the function ${type.name || '(anonymous)'}, which does not extend Error` : String(type)} at index ${index}`,
				);
			}
		});
		this.#exceptionTypes.push(...types);
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
		return this.#state;
	}
	/** Whether a run is in progress or about to begin (P1): true during hooks, sleeps, body, backoff and cleanup. */
	isRunning(): boolean {
		return (this.#run !== undefined && !this.#run.done) || this.#pending !== undefined;
	}
	/** True only while a cancelled run is cleaning up, i.e. inside its `afterLoop` (P2). */
	isBeingCancelled(): boolean {
		return this.#beingCancelled;
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
		if (!run || run.done || this.#stopRequested || this.#next === null) return null;
		return new Date(this.#next + this.#jitter);
	}
	/** Aborts when the current run is cancelled: pass it to `fetch` and friends inside a main-thread body. */
	get signal(): AbortSignal | undefined {
		return this.#run?.controller.signal;
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
		if (this.#pending || (run && !run.done && !(run.cancelRequested || run.ending))) {
			throw new LoopStateError(
				`Loop '${this.name}' is already running: stop() or cancel() it first, or use restart()`,
				{ code: ErrorCode.LoopAlreadyRunning },
			);
		}
		this.#executor.checkArgs?.(args);
		if (run && !run.done) {
			return handled(new Promise<Promise<void>>((resolve) => (this.#pending = { args, resolve })).then((p) => p));
		}
		return this.#launch(args);
	}

	/**
	 * Asks the run to end after the current iteration (A17): during a sleep, one more iteration runs; failures
	 * being retried keep being retried until one succeeds. No effect when not running.
	 */
	stop(): void {
		const run = this.#run;
		if (run && !run.done && !run.ending) this.#stopRequested = true;
	}

	/**
	 * Cancels the run (A18): the pending await (sleep, body, backoff, `beforeLoop`) is abandoned, `signal` aborts
	 * (a worker body is aborted, then terminated after its grace period) and `afterLoop` runs with
	 * `isBeingCancelled()` true. No effect when not running or already cancelled.
	 */
	cancel(): void {
		const run = this.#run;
		if (!run || run.done || run.cancelRequested) return;
		run.cancelRequested = true;
		// An Error as the reason, so `fetch(url, { signal: loop.signal })` and friends reject with something readable.
		run.controller.abort(new TaskAbortedError(`Loop '${this.name}' was cancelled`));
		// After the signal's own listeners (an executor's, a body's fetch), as a listener added by #guard would run.
		for (const reject of run.guards) reject();
		run.guards.clear();
		this.#sleep?.controller.abort(CANCELLED);
	}

	/**
	 * Cancels the run and starts a new one with `args` once the old run's `afterLoop` and cleanup are done (A19).
	 * Does nothing when the loop is not running. Calling it again before the new run begins replaces the arguments.
	 */
	restart(...args: Args): void {
		const run = this.#run;
		if (!run || run.done) return;
		this.#executor.checkArgs?.(args);
		if (this.#pending) this.#pending.args = args;
		else void handled(new Promise<Promise<void>>((resolve) => (this.#pending = { args, resolve })).then((p) => p));
		this.cancel();
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

	#emit<E extends keyof LoopEventMap>(event: E, ...args: LoopEventMap[E]): void {
		const set = this.#listeners?.get(event);
		if (!set) return;
		for (const listener of set) {
			try {
				(listener as (...a: LoopEventMap[E]) => void)(...args);
			} catch (error) {
				this.#logger.error(`A '${event}' listener of loop '${this.name}' threw`, error);
			}
		}
	}

	// ---- the run ------------------------------------------------------------------------------------------

	#launch(args: Args): Promise<void> {
		// Before anything is assigned: an executor that cannot start leaves the loop idle, not stuck "running".
		this.#executor.acquire?.();
		this.#failed = false;
		// A run that ended before its first iteration (cancelled or failed in beforeLoop) skipped the cleanup that
		// resets these; a new run never inherits a stale stop request.
		this.#stopRequested = false;
		this.#currentLoop = 0;
		const run: Run<Args> = {
			args,
			controller: new AbortController(),
			promise: Promise.resolve(),
			cancelRequested: false,
			ending: false,
			done: false,
			guards: new Set(),
		};
		this.#run = run;
		run.promise = handled(this.#execute(run));
		return run.promise;
	}

	/**
	 * Awaits `value` unless the run is cancelled first: the emulation of asyncio delivering a cancellation at the
	 * next await (N3). A value that has already settled wins over a cancel requested in the same turn, as a
	 * coroutine that does not suspend again finishes before the cancellation lands. The rejecter leaves
	 * `run.guards` when the value settles (a `Promise.race` against one long-lived promise would pile up reactions
	 * forever).
	 */
	#guard<T>(run: Run<Args>, value: T | PromiseLike<T>): Promise<T> {
		// A set on the run rather than an 'abort' listener per await: adding and removing EventTarget listeners
		// twice per iteration was a measurable share of a loop's main-thread cost (bench/accuracy.mjs).
		return new Promise<T>((resolve, reject) => {
			const onAbort = () => reject(CANCELLED);
			Promise.resolve(value).then(
				(result) => {
					run.guards.delete(onAbort);
					resolve(result);
				},
				(error: unknown) => {
					run.guards.delete(onAbort);
					reject(error);
				},
			);
			if (run.controller.signal.aborted) queueMicrotask(onAbort);
			else run.guards.add(onAbort);
		});
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
		this.#next = target;
		this.#jitter = target !== null && this.#jitterMs > 0 ? this.#random() * this.#jitterMs : 0;
	}

	/** Sleeps until `#next` (+ jitter). Re-armed by `changeInterval`; a cancel rejects it with CANCELLED. */
	async #sleepUntilNext(run: Run<Args>): Promise<void> {
		this.#state = LoopState.Waiting;
		for (;;) {
			// One controller serves every sleep until a re-arm or a cancel aborts it: a new AbortController per sleep
			// (with the listener the clock adds to it) cost about a third of an idle-bodied loop's main-thread time
			// per iteration, in allocation and GC (bench/accuracy.mjs). The system clock keeps a single listener per
			// signal (see Clock#sleep), so nothing accumulates on the reused signal.
			let controller = this.#sleepController;
			if (!controller || controller.signal.aborted) {
				controller = new AbortController();
				this.#sleepController = controller;
			}
			if (run.controller.signal.aborted) controller.abort(CANCELLED);
			this.#sleep = { controller, rearmable: true };
			try {
				if (this.#next !== null) await sleepUntil(this.#clock, this.#next + this.#jitter, controller.signal);
				return;
			} catch (error) {
				if (controller.signal.reason === REARM && !run.controller.signal.aborted) continue;
				throw error === REARM ? CANCELLED : error;
			} finally {
				this.#sleep = undefined;
			}
		}
	}

	/** A plain, cancellable sleep that `changeInterval` does not touch (the backoff delay, I6; the A4 yield). */
	async #plainSleep(run: Run<Args>, ms: number): Promise<void> {
		const controller = new AbortController();
		if (run.controller.signal.aborted) controller.abort(CANCELLED);
		this.#sleep = { controller, rearmable: false };
		try {
			await this.#clock.sleep(ms, controller.signal);
		} finally {
			this.#sleep = undefined;
		}
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

	async #execute(run: Run<Args>): Promise<void> {
		// A1: nothing of the run happens inside start().
		await null;
		if (run.controller.signal.aborted) return this.#finish(run, 'cancelled'); // A18: cancelled before its first step
		this.#state = LoopState.Starting;
		this.#emit('loopStarted');
		const backoff = new ExponentialBackoff({ random: this.#random, now: () => this.#clock.now() }); // A2
		try {
			if (this.#gate) await this.#guard(run, this.#gate(run.controller.signal));
			if (this.#beforeLoop) await this.#guard(run, this.#beforeLoop());
			this.#lastAttemptFailed = false;
			// A4: the mode is read after beforeLoop, so a changeInterval() there decides it.
			if (isExplicit(this.#schedule)) {
				this.#setNext(firstTarget(this.#schedule, this.#clock.now()));
			} else {
				this.#setNext(this.#clock.now());
				// The zero-length yield that lets cancel() in beforeLoop prevent the first body (A5).
				await this.#plainSleep(run, 0);
			}
		} catch (error) {
			if (error === CANCELLED) return this.#finish(run, 'cancelled'); // A3/A5: no afterLoop
			// Deviation from A3: a failing beforeLoop is reported to the error hook instead of vanishing.
			this.#failed = true;
			return this.#finish(run, 'failed', await this.#reportError(error));
		}

		let reason: LoopEndReason = 'stopped';
		let failure: unknown;
		try {
			reason = await this.#iterate(run, backoff);
		} catch (error) {
			if (error === CANCELLED) {
				reason = 'cancelled';
				this.#beingCancelled = true;
			} else {
				reason = 'failed';
				this.#failed = true; // P3: set before the error hook runs
				failure = await this.#reportError(error);
			}
		}
		// A14 cleanup. Deviation from A15: it runs even when afterLoop throws or is cancelled.
		run.ending = true;
		this.#state = LoopState.Ending;
		try {
			if (this.#afterLoop) await this.#afterLoop();
		} catch (error) {
			this.#failed = true;
			reason = 'failed';
			failure = await this.#reportError(error);
		}
		this.#sleep?.controller.abort(CANCELLED);
		this.#beingCancelled = false;
		this.#currentLoop = 0;
		this.#stopRequested = false;
		return this.#finish(run, reason, failure);
	}

	/** The protected region (A6, A7): iterations until count, stop, cancel or an unretried error. */
	async #iterate(run: Run<Args>, backoff: ExponentialBackoff): Promise<LoopEndReason> {
		if (this.#stopRequested) return 'stopped'; // A6
		for (;;) {
			const explicit = isExplicit(this.#schedule);
			if (explicit && this.#next === null) return 'completed'; // a cron pattern with no future fire
			// E4 deviation: a retry runs right after its backoff delay, not at the following slot (no double run).
			if (explicit && !this.#lastAttemptFailed) {
				await this.#sleepUntilNext(run);
				// changeInterval() during the sleep may have switched to a cron pattern that never fires again.
				if (this.#next === null) return 'completed';
			}
			const now = this.#clock.now();
			if (!this.#lastAttemptFailed) {
				this.#last = this.#next ?? now;
				this.#setNext(this.#following(this.#last, now));
			} else if (explicit || this.#missed === MissedIterations.Skip) {
				// A retry stands for the target whose attempt failed, so the loop goes on with the first target after
				// it: E4 deviation (a time/cron loop runs the following slot once, not twice, even when the backoff
				// reached or passed it) and E3 with `skip` (no catch-up burst). `catchUp` keeps `next`, as discord.py.
				const following = explicit ? nextTarget(this.#schedule, now, now) : this.#following(this.#last ?? now, now);
				if (following !== this.#next) this.#setNext(following);
			}
			const iteration = this.#currentLoop;
			const retry = this.#lastAttemptFailed;
			this.#state = LoopState.Running;
			const startedAt = this.#clock.now();
			const target = this.#last ?? startedAt;
			if (this.#hears('iterationStarted'))
				this.#emit('iterationStarted', { iteration, target: new Date(target), retry, latenessMs: startedAt - target });
			// A listener may have cancelled the loop: do not hand the executor work that is already cancelled.
			if (run.controller.signal.aborted) throw CANCELLED;
			try {
				const pending = this.#executor.execute({
					args: run.args,
					iteration,
					loopName: this.name,
					signal: run.controller.signal,
					target,
					retry,
				});
				// A synchronous body has finished already: nothing to await, so no cancellation can land (N3).
				const result = isThenable(pending) ? await this.#guard(run, pending) : pending;
				if (this.#hears('iterationCompleted')) {
					this.#emit('iterationCompleted', { iteration, durationMs: this.#clock.now() - startedAt, result });
				}
			} catch (error) {
				if (error === CANCELLED || run.controller.signal.aborted) throw CANCELLED;
				const willRetry = this.reconnect && this.#isRetryable(error);
				this.#emit('iterationFailed', { iteration, durationMs: this.#clock.now() - startedAt, error, willRetry });
				if (!willRetry) throw error;
				// A7.5: retry after a backoff delay, without counting the attempt and without checking stop().
				this.#lastAttemptFailed = true;
				const delayMs = backoff.delay();
				this.#logger.warn(
					`Handling exception in loop '${this.name}'. Retrying in ${(delayMs / 1000).toFixed(2)}s`,
					error,
				);
				this.#emit('reconnecting', { iteration, error, delayMs });
				this.#state = LoopState.Retrying;
				await this.#plainSleep(run, delayMs);
				continue;
			}
			this.#lastAttemptFailed = false;
			if (this.#stopRequested) return 'stopped'; // A17: no sleep, no increment
			if (!isExplicit(this.#schedule)) await this.#sleepUntilNext(run);
			this.#currentLoop += 1;
			// A11. `>=` rather than discord.py's `==`: lowering `count` below the current iteration mid-run ends the
			// run instead of making it endless.
			if (this.#count !== null && this.#currentLoop >= this.#count) return 'completed';
			if (this.#next === null) return 'completed'; // a cron pattern with no future fire
		}
	}

	#finish(run: Run<Args>, reason: LoopEndReason, error?: unknown): void {
		run.done = true;
		this.#state = LoopState.Idle;
		this.#emit('loopStopped', reason === 'failed' ? { reason, error } : { reason });
		const release = this.#executor.release?.();
		if (release !== undefined)
			void release.catch((e: unknown) => this.#logger.error(`Releasing loop '${this.name}' failed`, e));
		const pending = this.#pending;
		if (pending) {
			this.#pending = undefined;
			pending.resolve(this.#launch(pending.args));
		}
		if (reason === 'failed') throw error;
	}
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
	return (
		(typeof value === 'object' || typeof value === 'function') &&
		value !== null &&
		typeof (value as { then?: unknown }).then === 'function'
	);
}

/** Marks a promise as handled (the caller may still await it) and returns it. */
function handled<T>(promise: Promise<T>): Promise<T> {
	promise.catch(() => {});
	return promise;
}
