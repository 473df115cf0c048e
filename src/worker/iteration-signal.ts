/**
 * The abort state of one iteration: `ctx.signal` is made only when the body reads it. Most bodies never do, and an
 * AbortController per iteration is one of the larger costs of a no-op dispatch. A cancel or timeout that comes
 * first is remembered, and the signal is made already aborted with its reason.
 */
export class IterationSignal {
	#controller: AbortController | undefined;
	#aborted = false;
	#reason: unknown;

	/** The iteration's `AbortSignal`, made on first use. */
	get signal(): AbortSignal {
		if (!this.#controller) {
			this.#controller = new AbortController();
			if (this.#aborted) this.#controller.abort(this.#reason);
		}
		return this.#controller.signal;
	}

	/** Aborts the iteration (once; later reasons are ignored, as AbortController does). */
	abort(reason: unknown): void {
		if (this.#aborted) return;
		this.#aborted = true;
		this.#reason = reason;
		this.#controller?.abort(reason);
	}
}
