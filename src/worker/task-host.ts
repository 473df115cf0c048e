import { performance } from 'node:perf_hooks';
import type { Remote } from 'comlink';
import {
	type Cloneable,
	describeUncloneable,
	ErrorCode,
	type HostApi,
	type InspectTaskOutcome,
	type InspectTaskRequest,
	InvalidOptionError,
	type IterationOutcome,
	PROTOCOL_VERSION,
	ProtocolError,
	type RunIterationRequest,
	serializeError,
	type TaskControl,
	type TaskHandlers,
} from '../protocol/index.js';
import { createTaskContext } from './task-context.js';
import { TaskRegistry } from './task-registry.js';

function checkVersion(version: number): void {
	if (version !== PROTOCOL_VERSION) {
		throw new ProtocolError(
			`The worker host speaks protocol ${PROTOCOL_VERSION} but the main thread sent protocol ${version}: the worker host (workerPath) comes from another release of discord-tasks`,
			{ code: ErrorCode.ProtocolVersionMismatch },
		);
	}
}

/**
 * The worker side of the contract: runs iterations and answers control calls. Task bodies may throw anything;
 * every outcome is returned as data ({@link IterationOutcome}), never as a rejection.
 */
export class TaskHost {
	readonly #host: Remote<HostApi>;
	readonly #registry = new TaskRegistry();
	/** Running iterations by invocation id, for {@link TaskControl.cancel}. */
	readonly #running = new Map<number, AbortController>();

	constructor(host: Remote<HostApi>) {
		this.#host = host;
	}

	/** The handlers piscina calls (see `entry.ts`). */
	readonly handlers = {
		runIteration: (request: RunIterationRequest) => this.#runIteration(request),
		inspectTask: (request: InspectTaskRequest) => this.#inspectTask(request),
	} satisfies TaskHandlers;

	/** What the main thread may call on this worker. */
	readonly control: TaskControl = {
		cancel: (invocationId, reason) => {
			this.#running
				.get(invocationId)
				?.abort(
					reason === 'timeout'
						? new DOMException('The iteration ran past its timeoutMs', 'TimeoutError')
						: new DOMException('The loop was cancelled', 'AbortError'),
				);
		},
		ping: () => PROTOCOL_VERSION,
	};

	async #inspectTask(request: InspectTaskRequest): Promise<InspectTaskOutcome> {
		try {
			checkVersion(request.protocolVersion);
			await this.#registry.load(request.task);
			return { ok: true };
		} catch (error) {
			return { ok: false, error: serializeError(error) };
		}
	}

	async #runIteration(request: RunIterationRequest): Promise<IterationOutcome> {
		const startedAt = performance.now();
		const controller = new AbortController();
		let deadline: ReturnType<typeof setTimeout> | undefined;
		this.#running.set(request.invocationId, controller);
		try {
			checkVersion(request.protocolVersion);
			const task = await this.#registry.load(request.task);
			if (request.timeoutMs > 0) {
				// The cooperative stage of a timeout needs no message: the worker aborts its own signal. The main
				// side terminates the worker after the grace period if the body ignores it.
				deadline = setTimeout(
					() => controller.abort(new DOMException('The iteration ran past its timeoutMs', 'TimeoutError')),
					request.timeoutMs,
				);
			}
			const ctx = createTaskContext({
				host: this.#host,
				invocationId: request.invocationId,
				iteration: request.iteration,
				loopName: request.loopName,
				signal: controller.signal,
			});
			const value = await task.run(ctx, ...request.args);
			const problem = describeUncloneable(value, 'the result');
			if (problem) {
				throw new InvalidOptionError(
					'result',
					`The task of loop '${request.loopName}' returned a value that cannot cross to the main thread: ${problem}`,
					{
						code: ErrorCode.InvalidArgument,
					},
				);
			}
			return { ok: true, durationMs: performance.now() - startedAt, value: value as Cloneable };
		} catch (error) {
			return { ok: false, durationMs: performance.now() - startedAt, error: serializeError(error) };
		} finally {
			clearTimeout(deadline);
			this.#running.delete(request.invocationId);
		}
	}
}
