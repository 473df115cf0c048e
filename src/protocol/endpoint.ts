import type { MessagePort } from 'node:worker_threads';
import type { Endpoint } from 'comlink';

type Handler = Parameters<Endpoint['addEventListener']>[1];

/**
 * Adapts a worker_threads `MessagePort` to comlink's `Endpoint` (DOM-style listeners that receive `{ data }`).
 * Equivalent to comlink's node adapter, which is not reachable through an exports map from both builds.
 */
export function portEndpoint(port: MessagePort): Endpoint {
	const listeners = new WeakMap<object, (data: unknown) => void>();
	return {
		postMessage: (message: unknown, transfer?: readonly unknown[]) =>
			port.postMessage(message, transfer as readonly MessagePort[] | undefined),
		addEventListener: (_type: string, handler: Handler) => {
			const listener = (data: unknown) => {
				const event = { data } as Parameters<Extract<Handler, (...args: never[]) => unknown>>[0];
				if (typeof handler === 'function') handler(event);
				else handler.handleEvent(event);
			};
			port.on('message', listener);
			listeners.set(handler, listener);
		},
		removeEventListener: (_type: string, handler: Handler) => {
			const listener = listeners.get(handler);
			if (listener) port.off('message', listener);
			listeners.delete(handler);
		},
		start: () => port.start(),
	};
}
