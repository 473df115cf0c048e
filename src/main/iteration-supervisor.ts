import { randomUUID } from 'node:crypto';
import {
	type Cloneable,
	DiscordTasksError,
	describeOversized,
	describeValue,
	deserializeError,
	ErrorCode,
	PROTOCOL_VERSION,
	ProtocolError,
	type RunIterationRequest,
	TaskAbortedError,
	TaskError,
	type TaskRef,
	TaskResultError,
	TaskTimeoutError,
} from '../protocol/index.js';
import type { Clock } from './clock.js';
import type { HostServer, InvocationScope } from './host-server.js';

/** One iteration, in the caller's terms. */
export interface IterationCall {
	readonly task: TaskRef;
	readonly args: readonly Cloneable[];
	readonly loopName: string;
	readonly iteration: number;
	/** 0 for none. */
	readonly timeoutMs: number;
}

/** What one iteration needs besides the call. */
export interface RunIterationOptions {
	/** The loop's cancel signal: aborts the body's `ctx.signal`, then kills its worker after the grace period. */
	readonly signal: AbortSignal;
	/** Who the iteration runs for: its allowlist and its Discord client. */
	readonly scope: InvocationScope;
}

/** How the iteration ended early, if it did. */
export type EndReason = 'timeout' | 'cancel';

/**
 * Where an iteration runs (a worker of a pool, a task process): the part of running one that differs. The
 * supervision around it (timeouts, cancel, the grace period, mapping outcomes to errors) is
 * {@link superviseIteration}'s.
 * @internal
 */
export interface IterationTransport {
	/**
	 * Starts the iteration. Resolves with what the other side answered (not yet checked: it may be anything);
	 * rejects when the worker or process failed. Aborting `kill` must end the body at once (terminate its thread).
	 */
	start(request: RunIterationRequest, kill: AbortSignal): Promise<unknown>;
	/** The cooperative stage of a cancel or timeout: asks the body to stop (aborts its `ctx.signal`). */
	cancel(invocationId: string, reason: EndReason): void;
	/** The error for a rejection of {@link IterationTransport.start} that no timeout or cancel explains. */
	crash(error: unknown, request: RunIterationRequest): Error;
}

/** The signal of timers armed after their iteration settled: already aborted, so they never start. */
const SETTLED_SIGNAL = AbortSignal.abort();

function isOutcome(value: unknown): value is { ok: boolean; value?: unknown; error?: unknown } {
	return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';
}

/**
 * Errors of ours a body can legitimately throw (e.g. from `ctx.host` or `ctx.discord`) and that stay task failures;
 * a module that does not load, a result that cannot be taken and a protocol mismatch are reported as they are.
 */
function isBodyError(error: DiscordTasksError): boolean {
	return (
		error.code !== ErrorCode.TaskModuleNotFound &&
		error.code !== ErrorCode.TaskModuleInvalid &&
		error.code !== ErrorCode.TaskResultInvalid &&
		error.code !== ErrorCode.ProtocolVersionMismatch
	);
}

function describeThrown(thrown: unknown): string {
	if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
	let text: string;
	try {
		text = String(thrown);
	} catch {
		// A thrown object from a worker whose toString and valueOf are data, not functions.
		text = describeValue(thrown);
	}
	return `a thrown ${thrown === null ? 'null' : typeof thrown} (${text})`;
}

/**
 * Runs one iteration through a transport and turns every way it can end into a value or one of our errors:
 * {@link TaskError} (the body threw), {@link TaskTimeoutError}, {@link TaskAbortedError}, or the transport's crash
 * error. The loop's `signal` and the iteration's `timeoutMs` first ask the body to stop, then, after `graceMs`,
 * kill it. Timers are armed only when needed: most iterations arm none.
 * @internal
 */
export async function superviseIteration(
	transport: IterationTransport,
	request: RunIterationRequest,
	options: { readonly signal: AbortSignal; readonly clock: Clock; readonly graceMs: number },
): Promise<Cloneable> {
	const { invocationId, loopName, iteration, timeoutMs } = request;
	const { signal, clock } = options;
	const kill = new AbortController();
	let timers: AbortController | undefined;
	let finished = false;
	const timerSignal = () => {
		if (finished) return SETTLED_SIGNAL;
		timers ??= new AbortController();
		return timers.signal;
	};
	let ended: EndReason | undefined;
	const escalate = (reason: EndReason) => {
		if (ended) return;
		ended = reason;
		transport.cancel(invocationId, reason);
		clock.sleep(options.graceMs, timerSignal()).then(
			() => kill.abort(reason),
			() => {},
		);
	};
	const onCancel = () => escalate('cancel');
	signal.addEventListener('abort', onCancel, { once: true });
	if (timeoutMs > 0) {
		clock.sleep(timeoutMs, timerSignal()).then(
			() => escalate('timeout'),
			() => {},
		);
	}
	const timeoutError = (cause: unknown, aborted: string) =>
		new TaskTimeoutError(
			`Loop '${loopName}' iteration ${iteration} ran past its timeout of ${timeoutMs} ms (counted from its submission to the pool)${aborted}`,
			{ loopName, iteration, timeoutMs, cause },
		);
	try {
		let outcome: unknown;
		try {
			outcome = await transport.start(request, kill.signal);
		} catch (error) {
			if (ended === 'timeout') throw timeoutError(error, ' and was aborted; a body still running was terminated');
			if (ended === 'cancel') {
				throw new TaskAbortedError(`Loop '${loopName}' was cancelled; its worker was terminated`, {
					cause: signal.reason,
				});
			}
			throw transport.crash(error, request);
		}
		if (!isOutcome(outcome)) {
			throw new ProtocolError(
				`The worker running loop '${loopName}' answered iteration ${iteration} with something that is not an outcome`,
				{ code: ErrorCode.ProtocolUnexpectedMessage },
			);
		}
		if (outcome.ok) {
			// The worker host checks its results, but a task can answer for it: what arrives is checked here too.
			const oversized = describeOversized(outcome.value, 'the result');
			if (oversized) {
				throw new TaskResultError(
					`Loop '${loopName}' iteration ${iteration} returned a value too large to take: ${oversized}`,
					{ loopName, iteration },
				);
			}
			return outcome.value as Cloneable;
		}
		const thrown = deserializeError(outcome.error as never);
		if (ended === 'timeout') throw timeoutError(thrown, '');
		// Module and protocol problems are not the body's failures: report them as they are.
		if (thrown instanceof DiscordTasksError && !isBodyError(thrown)) throw thrown;
		throw new TaskError(`Loop '${loopName}' iteration ${iteration} failed: ${describeThrown(thrown)}`, {
			loopName,
			iteration,
			cause: thrown,
		});
	} finally {
		finished = true;
		timers?.abort();
		signal.removeEventListener('abort', onCancel);
	}
}

/**
 * Runs one iteration for a pool: opens its invocation on the host server (the token its host calls carry), builds
 * the request, and supervises it until it settles; the token is revoked as it does.
 * @internal
 */
export async function runIterationCall(
	server: HostServer,
	transport: IterationTransport,
	call: IterationCall,
	options: RunIterationOptions & { readonly clock: Clock; readonly graceMs: number },
): Promise<Cloneable> {
	const token = server.open(options.scope);
	const request: RunIterationRequest = {
		protocolVersion: PROTOCOL_VERSION,
		invocationId: randomUUID(),
		token,
		loopName: call.loopName,
		iteration: call.iteration,
		task: call.task,
		args: call.args,
		timeoutMs: call.timeoutMs,
	};
	try {
		return await superviseIteration(transport, request, options);
	} finally {
		server.close(token);
	}
}
