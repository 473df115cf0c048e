import type { MessagePort } from 'node:worker_threads';
import type { Cloneable } from './cloneable.js';
import type { SerializedError } from './errors.js';
import type { HostCall } from './host-channel.js';

/** The handlers the worker host exports; piscina calls them by name. */
export const TaskName = {
	/** Run one iteration of a task body. */
	RunIteration: 'runIteration',
} as const;
/** One of the {@link TaskName} values. */
export type TaskName = (typeof TaskName)[keyof typeof TaskName];

/** The `type` of the one message a worker host posts to the main thread when it loads. */
export const WORKER_HELLO = 'discord-tasks:hello';

/**
 * The environment variable through which a pool hands its workers the key that authenticates their hello. The
 * worker host reads it and deletes it from `process.env` as it loads, before any task module is imported, so a
 * task cannot forge a hello (which would bind a channel of its choosing to another worker).
 */
export const HELLO_KEY_ENV = 'DISCORD_TASKS_HELLO_KEY';

/**
 * The environment variable through which a pool tells a new worker which task modules its earlier workers ran (a
 * JSON array of {@link TaskRef}s): the worker imports them before it reports ready, so the iteration retried after
 * a crash finds a warm worker.
 */
export const PRELOAD_ENV = 'DISCORD_TASKS_PRELOAD';

/**
 * Posted by each worker host as it loads (through `parentPort`, which piscina re-emits as the pool's `'message'`
 * event): the worker's end of its persistent host channel, set up once per worker rather than once per
 * iteration. The channel carries {@link HostCall}s from the worker and replies and cancels from the main side.
 * Anyone in the worker can post on `parentPort`; the main side accepts only a hello with the pool's `key`, once per
 * worker.
 */
export interface WorkerHello {
	readonly type: typeof WORKER_HELLO;
	readonly threadId: number;
	readonly key: string;
	readonly port: MessagePort;
}

/** Which task to run: a module URL (`file:` URL string) and its export. */
export type TaskRef = {
	readonly moduleUrl: string;
	/** @defaultValue 'default' */
	readonly exportName: string;
};

/**
 * A {@link TaskRef} as one string: what an iteration request carries, and what a worker caches its loaded tasks by.
 * A string clones for less than a nested object (measured: about 1 µs of a 20 µs no-op dispatch). The module URL's
 * length comes first, so any export name reads back unchanged.
 */
export type TaskKey = string;

/** The {@link TaskKey} of a task. */
export function taskKey({ moduleUrl, exportName }: TaskRef): TaskKey {
	return `${moduleUrl.length}:${moduleUrl}${exportName}`;
}

/** The task a {@link TaskKey} names, or `undefined` if `key` is not one. */
export function parseTaskKey(key: unknown): TaskRef | undefined {
	if (typeof key !== 'string') return undefined;
	const colon = key.indexOf(':');
	const length = Number(key.slice(0, colon));
	if (colon < 1 || !Number.isSafeInteger(length) || length < 0 || colon + 1 + length > key.length) return undefined;
	return { moduleUrl: key.slice(colon + 1, colon + 1 + length), exportName: key.slice(colon + 1 + length) };
}

/** Main → worker: run one iteration. Only structured-cloneable data. */
export type RunIterationRequest = {
	readonly protocolVersion: number;
	/** Correlation id minted by the pool for this iteration (a counter); a cancel names it. */
	readonly invocationId: string;
	/**
	 * The secret the iteration's host calls carry ({@link HostCall}): minted by the main side for this iteration
	 * only, and sent to nobody but the worker that runs it. `invocationId` may be sent to every worker (a cancel is);
	 * this never is. A 53-bit integer from the CSPRNG: a number clones for less than a UUID string (measured: about
	 * 0.6 µs of a 20 µs no-op dispatch), and guessing one while its iteration runs takes some 2^52 calls, where a
	 * channel is cut off after 100,000 queued.
	 */
	readonly token: number;
	readonly loopName: string;
	readonly iteration: number;
	/** The task to run, as a {@link TaskKey}. */
	readonly task: TaskKey;
	readonly args: readonly Cloneable[];
	/** 0 for none. The worker aborts `ctx.signal` at this deadline by itself. */
	readonly timeoutMs: number;
};

/**
 * Worker → main: how an iteration ended. A body that throws is data (`ok: false`), not a rejection: rejections
 * of `pool.run()` mean infrastructure trouble (abort, crash), which the main side maps to its own errors. A body
 * that returned nothing, as most loop bodies do, is answered with `null`: the cheapest value to clone (measured:
 * about 0.9 µs less per iteration than `{ ok: true, value: undefined }`).
 */
export type IterationOutcome =
	| null
	| { readonly ok: true; readonly value: Cloneable }
	| { readonly ok: false; readonly error: SerializedError };

/** The contract `src/worker/entry.ts` must satisfy (checked with `satisfies`). */
export interface TaskHandlers {
	[TaskName.RunIteration](request: RunIterationRequest): Promise<IterationOutcome>;
}
