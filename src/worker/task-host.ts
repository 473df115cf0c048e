import {
	type Cloneable,
	describeUncloneable,
	describeValue,
	ErrorCode,
	type HostCall,
	type IterationOutcome,
	PROTOCOL_VERSION,
	ProtocolError,
	parseTaskKey,
	type RunIterationRequest,
	serializeError,
	type TaskHandlers,
	type TaskRef,
	TaskResultError,
	taskKey,
} from '../protocol/index.js';
import { HostClient } from './host-client.js';
import { IterationSignal } from './iteration-signal.js';
import { setLongTimeout } from './long-timeout.js';
import { IterationContext } from './task-context.js';
import { TaskRegistry } from './task-registry.js';

/** The task a request names; a request that names none is answered as a protocol error. */
function checkRequest(request: RunIterationRequest): TaskRef {
	if (typeof request !== 'object' || request === null) {
		throw new ProtocolError(`The worker host was sent ${describeValue(request)} instead of an iteration`, {
			code: ErrorCode.ProtocolUnexpectedMessage,
		});
	}
	if (request.protocolVersion !== PROTOCOL_VERSION) {
		throw new ProtocolError(
			`The worker host speaks protocol ${PROTOCOL_VERSION} but the main thread sent protocol ${String(request.protocolVersion)}: the worker host (workerPath) comes from another release of discord-tasks`,
			{ code: ErrorCode.ProtocolVersionMismatch },
		);
	}
	const ref = parseTaskKey(request.task);
	if (!ref) {
		throw new ProtocolError(`The worker host was sent ${describeValue(request.task)} instead of a task key`, {
			code: ErrorCode.ProtocolUnexpectedMessage,
		});
	}
	return ref;
}

const timeoutReason = () => new DOMException('The iteration ran past its timeoutMs', 'TimeoutError');
const cancelReason = () => new DOMException('The loop was cancelled', 'AbortError');

/**
 * The task side of the contract, the same in a worker thread and in a task process: runs iterations, makes the
 * host calls of their contexts and takes cancels. Task bodies may throw anything; every outcome is returned as
 * data ({@link IterationOutcome}), never as a rejection.
 */
export class TaskHost {
	readonly #client: HostClient;
	readonly #registry = new TaskRegistry();
	/** Running iterations by invocation id, for cancels. */
	readonly #running = new Map<string, IterationSignal>();

	/** @param post - Sends a host call to the main side (the worker's port, or the process's IPC channel). */
	constructor(post: (call: HostCall) => void) {
		this.#client = new HostClient(
			post,
			(invocationId, reason) =>
				this.#running.get(invocationId)?.abort(reason === 'timeout' ? timeoutReason() : cancelReason()),
			(tasks) => void this.preload(tasks),
		);
	}

	/** The handlers piscina calls (see `entry.ts`). */
	readonly handlers = {
		runIteration: (request: RunIterationRequest) => this.runIteration(request),
	} satisfies TaskHandlers;

	/**
	 * Imports task modules ahead of their first iteration (a new worker warms up with what its pool has run).
	 * A module that fails to load is left for its iteration to report.
	 */
	async preload(tasks: readonly TaskRef[]): Promise<void> {
		await Promise.all(
			tasks.map((task) =>
				typeof task?.moduleUrl === 'string' && typeof task.exportName === 'string'
					? this.#registry.load(taskKey(task), task).catch(() => {})
					: undefined,
			),
		);
	}

	/** Handles a message from the main side: a reply to a host call, or a cancel. */
	receive(message: unknown): void {
		this.#client.receive(message);
	}

	/** Runs one iteration; never rejects. */
	async runIteration(request: RunIterationRequest): Promise<IterationOutcome> {
		let signal: IterationSignal | undefined;
		let clearDeadline: (() => void) | undefined;
		try {
			// A loaded task is called without an await first: one turn less per iteration. A request for a task
			// already loaded has had its key checked; its protocol version is checked every time.
			const loaded = this.#registry.loaded((request as RunIterationRequest | null)?.task);
			const ref =
				loaded === undefined || request.protocolVersion !== PROTOCOL_VERSION ? checkRequest(request) : undefined;
			signal = new IterationSignal();
			this.#running.set(request.invocationId, signal);
			const task = loaded ?? (await this.#registry.load(request.task, ref as TaskRef));
			if (request.timeoutMs > 0) {
				// The cooperative stage of a timeout needs no message: the worker aborts its own signal. The main
				// side terminates the worker after the grace period if the body ignores it.
				const running = signal;
				clearDeadline = setLongTimeout(() => running.abort(timeoutReason()), request.timeoutMs);
			}
			const ctx = new IterationContext(this.#client, request.token, request.iteration, request.loopName, signal);
			const value = await task.run(ctx, ...request.args);
			if (value === undefined) return null;
			const problem = describeUncloneable(value, 'the result');
			if (problem) {
				throw new TaskResultError(
					`The task of loop '${request.loopName}' returned a value that cannot cross to the main thread: ${problem}`,
					{ loopName: request.loopName, iteration: request.iteration },
				);
			}
			return { ok: true, value: value as Cloneable };
		} catch (error) {
			return { ok: false, error: serializeError(error) };
		} finally {
			clearDeadline?.();
			if (signal) this.#running.delete(request.invocationId);
		}
	}
}
