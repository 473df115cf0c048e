/**
 * One iteration, as the Loop hands it to an {@link Executor}. The Loop passes the same object for every iteration of
 * a run, updated before each call (a firing allocates none): read it during `execute()`, do not keep it.
 */
export interface Invocation<Args extends readonly unknown[]> {
	/** The arguments given to `start()`, passed to every iteration. */
	readonly args: Args;
	/** The loop's `currentLoop` for this iteration (0-based). */
	readonly iteration: number;
	readonly loopName: string;
	/** Aborts when the loop is cancelled (the reason is a `TaskAbortedError`). */
	readonly signal: AbortSignal;
	/**
	 * The instant (ms since the epoch) this iteration was scheduled for. With the loop's name it identifies the
	 * iteration across processes: an executor that hands work to other hosts can use it as an idempotency key.
	 */
	readonly target: number;
	/** Whether this is a retry of a failed attempt at the same target. */
	readonly retry: boolean;
}

/**
 * Where a loop's body runs: the seam between the scheduling state machine and the body. The Loop never knows
 * whether the body is a function on this thread, a task in a worker pool, or (later) a job on another host.
 */
export interface Executor<Args extends readonly unknown[] = readonly unknown[]> {
	/**
	 * Runs the body once: returns its result, or a promise of it. Throws (or rejects with) what went wrong (the error
	 * the body threw, a `TaskError`, a `WorkerCrashedError`, a `TaskTimeoutError`, ...), which the Loop routes to
	 * retry or the error hook. A synchronous result costs the loop no promise.
	 */
	execute(invocation: Invocation<Args>): unknown;
	/** Refuses arguments this executor cannot carry (for workers: anything not structured-cloneable), at `start()`. */
	checkArgs?(args: Args): void;
	/** Called when a run begins. */
	acquire?(): void;
	/** Called when a run has ended (after `afterLoop`): a pool may close once no loop needs it. */
	release?(): Promise<void> | void;
}

/**
 * The executor of main-thread loops: calls the body function directly.
 * @internal
 */
export function inlineExecutor<Args extends readonly unknown[]>(body: (...args: Args) => unknown): Executor<Args> {
	return new InlineExecutor(body);
}

/** An object with the body in a field rather than a closure: one allocation per loop instead of three. */
class InlineExecutor<Args extends readonly unknown[]> implements Executor<Args> {
	readonly #body: (...args: Args) => unknown;

	constructor(body: (...args: Args) => unknown) {
		this.#body = body;
	}

	execute(invocation: Invocation<Args>): unknown {
		// Called as a plain function, as before: the body's `this` is undefined, not this executor.
		const body = this.#body;
		return body(...invocation.args);
	}
}
