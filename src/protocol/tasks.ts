import type { MessagePort } from 'node:worker_threads';
import type { Cloneable } from './cloneable.js';
import type { SerializedError } from './errors.js';

/** The handlers the worker host exports; piscina calls them by name. */
export const TaskName = {
	/** Run one iteration of a task body. */
	RunIteration: 'runIteration',
	/** Load a task module and describe it, without running it. */
	InspectTask: 'inspectTask',
} as const;
/** One of the {@link TaskName} values. */
export type TaskName = (typeof TaskName)[keyof typeof TaskName];

/** The `type` of the one message a worker host posts to the main thread when it loads. */
export const WORKER_HELLO = 'discord-tasks:hello';

/**
 * Posted by each worker host as it loads (through `parentPort`, which piscina re-emits as the pool's `'message'`
 * event): the worker's half of its two persistent comlink channels, set up once per worker rather than once per
 * iteration. `hostPort` carries worker → main calls ({@link HostApi}), `controlPort` main → worker calls
 * ({@link TaskControl}); each port is used in one direction only.
 */
export interface WorkerHello {
	readonly type: typeof WORKER_HELLO;
	readonly protocolVersion: number;
	readonly threadId: number;
	readonly hostPort: MessagePort;
	readonly controlPort: MessagePort;
}

/** Which task to run: a module URL (`file:` URL string) and its export. */
export type TaskRef = {
	readonly moduleUrl: string;
	/** @defaultValue 'default' */
	readonly exportName: string;
};

/** Main → worker: run one iteration. Only structured-cloneable data. */
export type RunIterationRequest = {
	readonly protocolVersion: number;
	/** Correlation id (a counter on the main side), used by {@link TaskControl.cancel}. */
	readonly invocationId: number;
	readonly loopName: string;
	readonly iteration: number;
	readonly task: TaskRef;
	readonly args: readonly Cloneable[];
	/** 0 for none. The worker aborts `ctx.signal` at this deadline by itself. */
	readonly timeoutMs: number;
};

/**
 * Worker → main: how an iteration ended. A body that throws is data (`ok: false`), not a rejection: rejections
 * of `pool.run()` mean infrastructure trouble (abort, crash), which the main side maps to its own errors.
 */
export type IterationOutcome =
	| { readonly ok: true; readonly durationMs: number; readonly value: Cloneable }
	| { readonly ok: false; readonly durationMs: number; readonly error: SerializedError };

/** Main → worker: check that a module has a task as the named export. */
export type InspectTaskRequest = {
	readonly protocolVersion: number;
	readonly task: TaskRef;
};

/** Worker → main: the result of {@link InspectTaskRequest}. */
export type InspectTaskOutcome = { readonly ok: true } | { readonly ok: false; readonly error: SerializedError };

/** The contract `src/worker/entry.ts` must satisfy (checked with `satisfies`). */
export interface TaskHandlers {
	[TaskName.RunIteration](request: RunIterationRequest): Promise<IterationOutcome>;
	[TaskName.InspectTask](request: InspectTaskRequest): Promise<InspectTaskOutcome>;
}
