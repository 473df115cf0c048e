import { TaskAbortedError } from '../protocol/index.js';
import type { ExponentialBackoff } from './backoff.js';
import type { Invocation } from './executor.js';

/**
 * Where a run is. It is the one value that `loop.state`, every guard of the Loop's public methods and every wake-up
 * read; the transitions are listed in the table on `Loop`.
 * @internal
 */
export const Phase = {
	/** The gate, `beforeLoop`, the zero-length yield before an interval loop's first body. */
	Starting: 'starting',
	/** A time/cron loop sleeps until its next target. */
	WaitBeforeBody: 'waitBeforeBody',
	/** The body runs. */
	Running: 'running',
	/** An interval loop sleeps after its body. */
	WaitAfterBody: 'waitAfterBody',
	/** The backoff delay after a retried failure. */
	Retrying: 'retrying',
	/** An unretried error ended the iterations; the error hook runs. */
	Failing: 'failing',
	/** `cancel()` ended the iterations; `afterLoop` has not begun. */
	Cancelling: 'cancelling',
	/** `afterLoop` of a run that completed, stopped or failed. */
	Ending: 'ending',
	/** `afterLoop` of a cancelled run: `isBeingCancelled()`. */
	EndingCancelled: 'endingCancelled',
	/** Over: `loopStopped` has been emitted. */
	Done: 'done',
} as const;
/** One of the {@link Phase} values. @internal */
export type Phase = (typeof Phase)[keyof typeof Phase];

/** Phases in which `start()` refuses to queue a run: the run is neither ending nor cancelled. @internal */
export function isActive(phase: Phase): boolean {
	return (
		phase !== Phase.Cancelling && phase !== Phase.Ending && phase !== Phase.EndingCancelled && phase !== Phase.Done
	);
}

/** Phases of the iterations proper: the ones that `cancel()` and a failure end. @internal */
export function isIterating(phase: Phase): boolean {
	return (
		phase === Phase.WaitBeforeBody ||
		phase === Phase.Running ||
		phase === Phase.WaitAfterBody ||
		phase === Phase.Retrying
	);
}

/**
 * One run of a loop, from `start()` to `loopStopped`. It is also the {@link Invocation} the run hands its executor,
 * updated before each iteration (an executor reads it when called and does not keep it): a firing allocates
 * nothing, and a sleeping loop holds one object for its run.
 * @internal
 */
export class LoopRun<Args extends readonly unknown[]> implements Invocation<Args> {
	/** The arguments `start()` got, passed to every iteration. */
	readonly args: Args;
	readonly loopName: string;
	/** The current iteration's `currentLoop`, target and retry flag, set before each call of the executor. */
	iteration = 0;
	target = 0;
	retry = false;
	/** Where the run is; see the table on `Loop`. */
	phase: Phase = Phase.Starting;
	/** `stop()` was called: the run ends after the current iteration (read after each body, not a phase). */
	stopRequested = false;
	/** Whether `cancel()` was called: `signal`, made then or later, aborts. */
	cancelled = false;
	/** Rejects the start-up await in progress (gate, beforeLoop) with the loop's cancel marker; `cancel()` calls it. */
	abandon: (() => void) | undefined = undefined;
	/** Created on the first retried failure (A2: per run; its reset window only matters from then on). */
	backoff: ExponentialBackoff | undefined = undefined;
	/** Settles when the run has ended; see {@link LoopRun.fail}. */
	readonly promise: Promise<void>;
	/** Resolves {@link LoopRun.promise}. */
	readonly resolve!: () => void;
	#reject!: (error: unknown) => void;
	/** Created on first use of `signal`: most main-thread loops never read it. */
	#controller: AbortController | undefined = undefined;

	constructor(args: Args, loopName: string) {
		this.args = args;
		this.loopName = loopName;
		this.promise = new Promise<void>((resolve, reject) => {
			(this as { resolve: () => void }).resolve = resolve;
			this.#reject = reject;
		});
	}

	/**
	 * Rejects {@link LoopRun.promise} with the error that ended the run. The promise is marked handled first (the
	 * caller may still await it), so an unawaited failing loop never crashes the process with an unhandled
	 * rejection: marking it here rather than when the run starts saves a sleeping loop a promise and a reaction.
	 */
	fail(error: unknown): void {
		this.promise.catch(ignore);
		this.#reject(error);
	}

	/** Aborts when the run is cancelled; made on first use, already aborted if the run was cancelled before. */
	get signal(): AbortSignal {
		let controller = this.#controller;
		if (!controller) {
			controller = new AbortController();
			this.#controller = controller;
			if (this.cancelled) controller.abort(this.#cancelReason());
		}
		return controller.signal;
	}

	/** Marks the run cancelled and aborts its signal if one was made. */
	cancel(): void {
		this.cancelled = true;
		this.#controller?.abort(this.#cancelReason());
	}

	/**
	 * What the signal aborts with: an Error, so `fetch(url, { signal: loop.signal })` and friends reject with
	 * something readable. Made only when a signal exists: capturing a stack per `cancel()` was most of the cost of
	 * cancelling 100,000 loops.
	 */
	#cancelReason(): TaskAbortedError {
		return new TaskAbortedError(`Loop '${this.loopName}' was cancelled`);
	}
}

/** Marks a promise as handled without a closure per promise. @internal */
export function ignore(): void {}
