import { afterEach, beforeEach, vi } from 'vitest';
import { type Loop, type LoopOptions, loop } from '../../src/index.js';
import { T0 } from './fake-time.js';
import { recordingLogger } from './recording-logger.js';

const created: { cancel(): void }[] = [];

/**
 * `loop()` with test defaults: a recording logger (stderr stays clean) and `random: () => 0.5` (backoff delays
 * are exactly half their bound: 1 s, 2 s, 4 s, ...). Options given win. The loop is cancelled by
 * {@link cancelTestLoops}.
 */
export function testLoop<Args extends readonly unknown[]>(
	options: LoopOptions<Loop<Args>>,
	body: (...args: Args) => unknown,
): Loop<Args> {
	const created_ = loop<Args>({ logger: recordingLogger(), random: () => 0.5, ...options }, body);
	created.push(created_);
	return created_;
}

/** Cancels every loop made with {@link testLoop} since the last call (for `afterEach`). */
export function cancelTestLoops(): void {
	for (const each of created.splice(0)) each.cancel();
}

/** Error thrown by a socket reset: matched by the default exception types (RetryableNetworkError). */
export function connectionReset(message = 'read ECONNRESET'): Error {
	return Object.assign(new Error(message), { code: 'ECONNRESET' });
}

/** Records `unhandledRejection` events until the returned `stop()` is called. */
export function captureUnhandledRejections(): { readonly reasons: unknown[]; stop(): void } {
	const reasons: unknown[] = [];
	const listener = (reason: unknown) => {
		reasons.push(reason);
	};
	process.on('unhandledRejection', listener);
	return { reasons, stop: () => process.off('unhandledRejection', listener) };
}

/**
 * Fake timers from {@link T0} around every test of the calling file, and the file's test loops cancelled after
 * each test. Call it once at the top level of a loop test file.
 */
export function useLoopTestTime(): void {
	beforeEach(() => {
		vi.useFakeTimers({ now: T0 });
	});
	afterEach(() => {
		cancelTestLoops();
		vi.useRealTimers();
	});
}
