/** What {@link recordCalls} returns: the body to give to `loop()` and what it saw. */
export interface RecordedCalls<Args extends readonly unknown[]> {
	/** The loop body: records the call, then runs `impl` (if any) and returns what it returns. */
	readonly body: (...args: Args) => Promise<unknown>;
	/** `Date.now() - origin` at each call, in call order. */
	readonly times: number[];
	/** The arguments of each call. */
	readonly args: Args[];
}

/**
 * A loop body that records when (in fake time, relative to `origin`) and with which arguments it was called.
 *
 * @param impl - What the body does on call `index` (0-based): await something, throw, ...
 * @param origin - The instant times are relative to; defaults to `Date.now()` when `recordCalls` is called.
 */
export function recordCalls<Args extends readonly unknown[] = []>(
	impl?: (index: number, ...args: Args) => unknown,
	origin: number = Date.now(),
): RecordedCalls<Args> {
	const times: number[] = [];
	const args: Args[] = [];
	return {
		times,
		args,
		async body(...callArgs: Args): Promise<unknown> {
			const index = times.length;
			times.push(Date.now() - origin);
			args.push(callArgs);
			return await impl?.(index, ...callArgs);
		},
	};
}

/** A promise with its settle functions exposed. */
export interface Deferred<T> {
	readonly promise: Promise<T>;
	readonly resolve: (value: T) => void;
	readonly reject: (reason: unknown) => void;
}

/** Creates a {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
	let resolve!: (value: T) => void;
	let reject!: (reason: unknown) => void;
	const promise = new Promise<T>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	return { promise, resolve, reject };
}
