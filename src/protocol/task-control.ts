/** Main → worker calls over the worker's control channel (comlink). */
export interface TaskControl {
	/**
	 * Aborts `ctx.signal` of a running iteration (the cooperative stage of cancellation and timeouts; the forced
	 * stage terminates the worker). Unknown ids are ignored: the iteration may have just finished.
	 */
	cancel(invocationId: number, reason: 'cancel' | 'timeout'): void;
	/** The worker host's protocol version (handshake). */
	ping(): number;
}
