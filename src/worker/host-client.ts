import {
	type Cloneable,
	deserializeError,
	type HostCall,
	type HostResult,
	isMainToWorkerMessage,
	type MainToWorkerMessage,
	type TaskRef,
} from '../protocol/index.js';

/** A host call without its envelope: what a task context asks for. */
export type HostRequest = HostCall extends infer C ? (C extends HostCall ? Omit<C, 'type' | 'id'> : never) : never;

/**
 * The task side of a host channel (a worker's port, or a task process's IPC): sends {@link HostCall}s, matches
 * replies by id, and hands cancels and warm-ups to the task host. Errors come back with their class
 * ({@link deserializeError}).
 */
export class HostClient {
	readonly #post: (call: HostCall) => void;
	readonly #onCancel: (invocationId: string, reason: 'cancel' | 'timeout') => void;
	readonly #onPreload: (tasks: readonly TaskRef[]) => void;
	readonly #pending = new Map<number, { resolve: (value: Cloneable) => void; reject: (error: unknown) => void }>();
	#nextId = 0;

	constructor(
		post: (call: HostCall) => void,
		onCancel: (invocationId: string, reason: 'cancel' | 'timeout') => void,
		onPreload: (tasks: readonly TaskRef[]) => void,
	) {
		this.#post = post;
		this.#onCancel = onCancel;
		this.#onPreload = onPreload;
	}

	/** Sends one call; resolves with the main side's answer or rejects with its error. */
	call(request: HostRequest): Promise<Cloneable> {
		const id = this.#nextId++;
		return new Promise((resolve, reject) => {
			this.#pending.set(id, { resolve, reject });
			try {
				this.#post({ ...request, type: 'call', id } as HostCall);
			} catch (error) {
				// The arguments could not be cloned: nothing was sent.
				this.#pending.delete(id);
				reject(error);
			}
		});
	}

	/** Handles one message from the main side. */
	receive(message: unknown): void {
		if (!isMainToWorkerMessage(message)) return;
		if (message.type === 'cancel') this.#onCancel(message.invocationId, message.reason);
		else if (message.type === 'preload') this.#onPreload(message.tasks);
		else this.#settle(message);
	}

	#settle(reply: Extract<MainToWorkerMessage, { type: 'reply' }>): void {
		const pending = this.#pending.get(reply.id);
		if (!pending) return;
		this.#pending.delete(reply.id);
		const result: HostResult = reply.result;
		if (result.ok) pending.resolve(result.value);
		else pending.reject(deserializeError(result.error));
	}
}
