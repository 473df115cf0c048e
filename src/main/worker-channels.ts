import type { MessagePort, Worker } from 'node:worker_threads';
import {
	type CancelMessage,
	type HostReply,
	type MainToWorkerMessage,
	type PreloadMessage,
	WORKER_HELLO,
	type WorkerHello,
} from '../protocol/index.js';
import type { HostServer } from './host-server.js';

/**
 * Messages a worker may post on `parentPort` after its hello: piscina's own ready message, and nothing else the pool
 * knows of. Past this many, a task is flooding the main thread (each message is decoded there) and its worker is
 * replaced.
 */
export const MAX_PARENT_PORT_MESSAGES = 16;

/** Whether a message is a hello carrying this pool's key (anything else on `parentPort` is ignored). */
function isHello(message: unknown, key: string): message is WorkerHello {
	if (typeof message !== 'object' || message === null) return false;
	const hello = message as Partial<WorkerHello>;
	return (
		hello.type === WORKER_HELLO &&
		hello.key === key &&
		typeof hello.threadId === 'number' &&
		typeof (hello.port as MessagePort | undefined)?.postMessage === 'function'
	);
}

/**
 * The host channels of a pool's workers, one MessagePort each. A worker's hello is accepted once, only with the
 * pool's key (which its host took out of the environment before any task loaded), and binds the port to that
 * worker's `Worker` object: calls on it answer for that worker, and a message on it that is not a host call gets
 * that worker terminated. Messages a task posts on `parentPort` itself cannot be told apart by sender, so nothing
 * but a keyed hello is acted on.
 * @internal
 */
export class WorkerChannels {
	readonly #piscina: { readonly threads: readonly Worker[] };
	readonly #key: string;
	readonly #server: HostServer;
	readonly #ports = new Map<Worker, MessagePort>();

	readonly #welcome: () => PreloadMessage | undefined;

	/** @param welcome - What a worker is sent when its channel opens: the pool's warm-up list, if any. */
	constructor(
		piscina: { readonly threads: readonly Worker[] },
		key: string,
		server: HostServer,
		welcome: () => PreloadMessage | undefined,
	) {
		this.#piscina = piscina;
		this.#key = key;
		this.#server = server;
		this.#welcome = welcome;
	}

	/** Channels open right now (one per worker that said hello and is alive). */
	get size(): number {
		return this.#ports.size;
	}

	/** Handles a message piscina re-emitted from some worker's `parentPort`. */
	accept(message: unknown): void {
		if (!isHello(message, this.#key)) return;
		const { port, threadId } = message;
		const worker = this.#piscina.threads.find((thread) => thread.threadId === threadId);
		// A hello that arrives after its worker was destroyed, or a second one, must not leave a channel behind.
		if (!worker || this.#ports.has(worker)) {
			port.close();
			return;
		}
		this.#ports.set(worker, port);
		port.on(
			'message',
			this.#server.connect(
				port,
				(reply: HostReply) => this.#post(port, reply),
				() => this.#evict(worker),
			),
		);
		// A worker whose channel closed (a task closed its end) can no longer reach the main thread: every later
		// iteration there would wait forever for its host calls. It is replaced; a worker that exits closes it too.
		port.once('close', () => {
			if (this.#ports.get(worker) === port) this.#evict(worker);
		});
		// The port must not keep the bot's process alive once everything else is done.
		port.unref();
		// By the Worker object, not by threadId: the threadId reads -1 once the worker has exited.
		worker.once('exit', () => this.#drop(worker));
		// Nothing but piscina's ready message comes on parentPort after the hello; a task posting there floods the
		// main thread, which decodes every message, and harms only its own worker.
		let posted = 0;
		const onParentMessage = () => {
			if (++posted <= MAX_PARENT_PORT_MESSAGES) return;
			worker.off('message', onParentMessage);
			this.#evict(worker);
		};
		worker.on('message', onParentMessage);
		const welcome = this.#welcome();
		if (welcome) this.#post(port, welcome);
	}

	/** Sends a message to every worker (a warm-up list). */
	broadcast(message: PreloadMessage): void {
		for (const port of this.#ports.values()) this.#post(port, message);
	}

	/** Asks every worker to abort `ctx.signal` of this invocation; the one running it does, the others ignore it. */
	cancel(invocationId: string, reason: CancelMessage['reason']): void {
		const message: CancelMessage = { type: 'cancel', invocationId, reason };
		for (const port of this.#ports.values()) this.#post(port, message);
	}

	/** Closes every channel (the pool is closing). */
	close(): void {
		for (const worker of [...this.#ports.keys()]) this.#drop(worker);
	}

	#post(port: MessagePort, message: MainToWorkerMessage): void {
		try {
			port.postMessage(message);
		} catch {
			// The port closed under us (its worker died); the iteration's outcome comes from piscina.
		}
	}

	/** A worker broke the protocol on its channel: it harms only itself. Its running iteration fails as a crash. */
	#evict(worker: Worker): void {
		this.#drop(worker);
		void worker.terminate();
	}

	#drop(worker: Worker): void {
		const port = this.#ports.get(worker);
		if (!port) return;
		this.#ports.delete(worker);
		port.close();
	}
}
