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
	type TaskKey,
	type TaskRef,
	TaskResultError,
	TaskTimeoutError,
	taskKey,
} from '../protocol/index.js';
import { type AbortWatcher, unwatchAbort, watchAbort } from './abort-watchers.js';
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
	start(request: RunIterationRequest, kill: KillSignal): Promise<unknown>;
	/** The cooperative stage of a cancel or timeout: asks the body to stop (aborts its `ctx.signal`). */
	cancel(invocationId: string, reason: EndReason): void;
	/** The error for a rejection of {@link IterationTransport.start} that no timeout or cancel explains. */
	crash(error: unknown, request: RunIterationRequest): Error;
	/** The iteration has settled, whatever its outcome (called last, once per started iteration). */
	done?(request: RunIterationRequest): void;
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

function timeoutError({ loopName, iteration, timeoutMs }: IterationCall, cause: unknown, aborted: string): Error {
	return new TaskTimeoutError(
		`Loop '${loopName}' iteration ${iteration} ran past its timeout of ${timeoutMs} ms (counted from its submission to the pool)${aborted}`,
		{ loopName, iteration, timeoutMs, cause },
	);
}

/** Invocation ids: they name an iteration in cancels, which every worker of a pool sees, so they are no secret. */
let invocations = 0;

/** The key of each task ref: a loop passes the same ref with every iteration. */
const keys = new WeakMap<TaskRef, TaskKey>();

function keyOf(task: TaskRef): TaskKey {
	let key = keys.get(task);
	if (key === undefined) {
		key = taskKey(task);
		keys.set(task, key);
	}
	return key;
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
 * The switch that kills an iteration's worker, in the shape piscina (and the task process) take as an abort
 * signal: one plain object per iteration instead of an AbortController, its signal and a DOMException.
 * @internal
 */
export interface KillSignal {
	readonly aborted: boolean;
	readonly reason: unknown;
	addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
	removeEventListener(type: 'abort', listener: () => void): void;
}

/** The options of {@link superviseIteration}. */
export interface SuperviseOptions extends RunIterationOptions {
	readonly clock: Clock;
	readonly graceMs: number;
}

/**
 * One iteration under supervision: its request, its kill switch and its escalation. A class rather than closures
 * and an AbortController per iteration: a no-op dispatch allocates this one object on this side.
 */
class Supervision implements KillSignal, AbortWatcher {
	readonly request: RunIterationRequest;
	readonly #transport: IterationTransport;
	readonly #options: SuperviseOptions;
	aborted = false;
	reason: unknown;
	#killListener: (() => void) | undefined;
	/** Aborts the timers (timeout, grace period) once the iteration has settled; made when one is armed. */
	#timers: AbortController | undefined;
	#settled = false;
	ended: EndReason | undefined;

	constructor(transport: IterationTransport, request: RunIterationRequest, options: SuperviseOptions) {
		this.#transport = transport;
		this.request = request;
		this.#options = options;
	}

	addEventListener(_type: 'abort', listener: () => void): void {
		this.#killListener = listener;
	}
	removeEventListener(_type: 'abort', listener: () => void): void {
		if (this.#killListener === listener) this.#killListener = undefined;
	}

	/** The loop's cancel signal fired. */
	onAbort(): void {
		this.escalate('cancel');
	}

	/** Arms the timeout, if the iteration has one. */
	armTimeout(): void {
		if (this.request.timeoutMs > 0) {
			this.#options.clock.sleep(this.request.timeoutMs, this.#timerSignal()).then(
				() => this.escalate('timeout'),
				() => {},
			);
		}
	}

	/** Asks the body to stop; past the grace period, kills its worker. */
	escalate(reason: EndReason): void {
		if (this.ended) return;
		this.ended = reason;
		this.#transport.cancel(this.request.invocationId, reason);
		this.#options.clock.sleep(this.#options.graceMs, this.#timerSignal()).then(
			() => this.#kill(reason),
			() => {},
		);
	}

	settle(): void {
		this.#settled = true;
		this.#timers?.abort();
	}

	#kill(reason: EndReason): void {
		if (this.aborted) return;
		this.aborted = true;
		this.reason = reason;
		this.#killListener?.();
	}

	/** Timers armed after the iteration settled (a timeout firing in the same turn) start aborted. */
	#timerSignal(): AbortSignal {
		if (this.#settled) return SETTLED_SIGNAL;
		this.#timers ??= new AbortController();
		return this.#timers.signal;
	}
}

/**
 * Runs one iteration through a transport and turns every way it can end into a value or one of our errors:
 * {@link TaskError} (the body threw), {@link TaskTimeoutError}, {@link TaskAbortedError}, {@link TaskResultError},
 * or the transport's crash error. The loop's `signal` and the iteration's `timeoutMs` first ask the body to stop,
 * then, after `graceMs`, kill it. The iteration's invocation is open on `server` (its token valid) until it settles.
 * @internal
 */
export async function superviseIteration(
	server: HostServer,
	transport: IterationTransport,
	call: IterationCall,
	options: SuperviseOptions,
): Promise<Cloneable> {
	const { loopName, iteration, timeoutMs } = call;
	const { signal } = options;
	const token = server.open(options.scope);
	const supervision = new Supervision(
		transport,
		{
			protocolVersion: PROTOCOL_VERSION,
			invocationId: String(++invocations),
			token,
			loopName,
			iteration,
			task: keyOf(call.task),
			args: call.args,
			timeoutMs,
		},
		options,
	);
	watchAbort(signal, supervision);
	supervision.armTimeout();
	try {
		let outcome: unknown;
		try {
			outcome = await transport.start(supervision.request, supervision);
		} catch (error) {
			if (supervision.ended === 'timeout')
				throw timeoutError(call, error, ' and was aborted; a body still running was terminated');
			if (supervision.ended === 'cancel') {
				throw new TaskAbortedError(`Loop '${loopName}' was cancelled; its worker was terminated`, {
					cause: signal.reason,
				});
			}
			throw transport.crash(error, supervision.request);
		}
		if (outcome === null) return undefined;
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
		if (supervision.ended === 'timeout') throw timeoutError(call, thrown, '');
		// Module and protocol problems are not the body's failures: report them as they are.
		if (thrown instanceof DiscordTasksError && !isBodyError(thrown)) throw thrown;
		throw new TaskError(`Loop '${loopName}' iteration ${iteration} failed: ${describeThrown(thrown)}`, {
			loopName,
			iteration,
			cause: thrown,
		});
	} finally {
		supervision.settle();
		unwatchAbort(signal, supervision);
		server.close(token);
		transport.done?.(supervision.request);
	}
}
