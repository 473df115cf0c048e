import { type Cloneable, describeUncloneable } from './cloneable.js';

/**
 * Every error code discord-tasks produces. Each has a row in `docs/errors.md` (checked by a test).
 */
export const ErrorCode = {
	InvalidOption: 'ERR_INVALID_OPTION',
	InvalidArgument: 'ERR_INVALID_ARGUMENT',
	LoopAlreadyRunning: 'ERR_LOOP_ALREADY_RUNNING',
	LoopNameTaken: 'ERR_LOOP_NAME_TAKEN',
	LoopNotFound: 'ERR_LOOP_NOT_FOUND',
	ControllerClosed: 'ERR_CONTROLLER_CLOSED',
	TaskFailed: 'ERR_TASK_FAILED',
	TaskTimeout: 'ERR_TASK_TIMEOUT',
	TaskAborted: 'ERR_TASK_ABORTED',
	TaskModuleNotFound: 'ERR_TASK_MODULE_NOT_FOUND',
	TaskModuleInvalid: 'ERR_TASK_MODULE_INVALID',
	TaskResultInvalid: 'ERR_TASK_RESULT_INVALID',
	WorkerCrashed: 'ERR_WORKER_CRASHED',
	WorkerOutOfMemory: 'ERR_WORKER_OUT_OF_MEMORY',
	PoolClosed: 'ERR_POOL_CLOSED',
	PoolQueueFull: 'ERR_POOL_QUEUE_FULL',
	ServiceNotFound: 'ERR_SERVICE_NOT_FOUND',
	DiscordAccessDenied: 'ERR_DISCORD_ACCESS_DENIED',
	DiscordUnavailable: 'ERR_DISCORD_UNAVAILABLE',
	ProtocolVersionMismatch: 'ERR_PROTOCOL_VERSION_MISMATCH',
	ProtocolUnexpectedMessage: 'ERR_PROTOCOL_UNEXPECTED_MESSAGE',
	BackendUnavailable: 'ERR_BACKEND_UNAVAILABLE',
	BackendMisconfigured: 'ERR_BACKEND_MISCONFIGURED',
} as const;
/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * An error (or any thrown value) in a form that crosses the thread boundary intact. Structured clone
 * alone would drop the subclass, `code`, own fields and the cause chain; this keeps them.
 */
export type SerializedError = {
	/** `error.name` (for a non-Error throwable: `'NonErrorThrown'`). */
	readonly name: string;
	readonly message: string;
	readonly code?: string;
	readonly stack?: string;
	/** The serialised `error.cause`, up to {@link MAX_CAUSE_DEPTH} levels. */
	readonly cause?: SerializedError;
	/** Own enumerable fields of the error that could be cloned (`status`, `retryAfter`, ...). */
	readonly data?: { readonly [key: string]: Cloneable };
	/** Constructor names up the prototype chain, most derived first: `['RateLimitedError', 'HttpError', 'Error']`. */
	readonly classChain: readonly string[];
	/** Set when the thrown value was not an Error (`throw 'x'`, `throw null`). */
	readonly nonError?: { readonly value: Cloneable; readonly type: string };
};

/** How deep `serializeError` follows `cause` chains (they can be cyclic). */
export const MAX_CAUSE_DEPTH = 8;

const kClassChain = Symbol.for('discord-tasks.classChain');

/**
 * The class chain recorded for an error rebuilt from another thread, or `undefined` for a local error.
 * @internal
 */
export function remoteClassChain(error: unknown): readonly string[] | undefined {
	if (typeof error !== 'object' || error === null) return undefined;
	const chain = (error as { [kClassChain]?: unknown })[kClassChain];
	return Array.isArray(chain) ? chain : undefined;
}

function brand(name: string): symbol {
	return Symbol.for(`discord-tasks.error.${name}`);
}
function hasBrand(value: unknown, symbol: symbol): boolean {
	return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[symbol] === true;
}

const kDiscordTasksError = brand('DiscordTasksError');
const kInvalidOptionError = brand('InvalidOptionError');
const kLoopStateError = brand('LoopStateError');
const kTaskError = brand('TaskError');
const kTaskTimeoutError = brand('TaskTimeoutError');
const kTaskAbortedError = brand('TaskAbortedError');
const kTaskModuleError = brand('TaskModuleError');
const kWorkerCrashedError = brand('WorkerCrashedError');
const kPoolClosedError = brand('PoolClosedError');
const kPoolQueueFullError = brand('PoolQueueFullError');
const kDiscordAccessError = brand('DiscordAccessError');
const kProtocolError = brand('ProtocolError');
const kRemoteError = brand('RemoteError');
const kTaskResultError = brand('TaskResultError');
const kServiceNotFoundError = brand('ServiceNotFoundError');

/** Options every discord-tasks error accepts. */
export interface DiscordTasksErrorOptions extends ErrorOptions {
	readonly code: ErrorCode;
}

/**
 * Base class of every error discord-tasks throws or reports. `instanceof` works across the ESM and CJS
 * builds (and across copies of the package) because each class checks a `Symbol.for` brand.
 */
export class DiscordTasksError extends Error {
	/** A stable, documented code (see `docs/errors.md`). */
	readonly code: ErrorCode;
	override readonly name: string = 'DiscordTasksError';

	constructor(message: string, options: DiscordTasksErrorOptions) {
		super(message, options.cause === undefined ? undefined : { cause: options.cause });
		this.code = options.code;
	}

	get [kDiscordTasksError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kDiscordTasksError);
	}

	/** The error as a {@link SerializedError}, so `JSON.stringify` and `postMessage` keep what matters. */
	toJSON(): SerializedError {
		return serializeError(this);
	}
}

/** A value given to discord-tasks is not valid; the message names the option and the value. */
export class InvalidOptionError extends DiscordTasksError {
	override readonly name = 'InvalidOptionError';
	/** The option (or argument) that was refused, e.g. `'seconds'` or `'time[1]'`. */
	readonly option: string;
	constructor(
		option: string,
		message: string,
		options: { code?: typeof ErrorCode.InvalidOption | typeof ErrorCode.InvalidArgument; cause?: unknown } = {},
	) {
		super(message, { code: options.code ?? ErrorCode.InvalidOption, cause: options.cause });
		this.option = option;
	}
	get [kInvalidOptionError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kInvalidOptionError);
	}
}

/** An operation does not fit the loop's (or the controller's) current state. */
export class LoopStateError extends DiscordTasksError {
	override readonly name = 'LoopStateError';
	get [kLoopStateError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kLoopStateError);
	}
}

/** Where an iteration ran, attached to task errors. */
export interface IterationInfo {
	readonly loopName: string;
	readonly iteration: number;
}

/** A task body running in a worker threw. `cause` is the thrown value, rebuilt on the main thread. */
export class TaskError extends DiscordTasksError {
	override readonly name = 'TaskError';
	readonly loopName: string;
	readonly iteration: number;
	constructor(message: string, info: IterationInfo & { cause: unknown }) {
		super(message, { code: ErrorCode.TaskFailed, cause: info.cause });
		this.loopName = info.loopName;
		this.iteration = info.iteration;
	}
	get [kTaskError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kTaskError);
	}
}

/** An iteration ran past its `timeoutMs`; the worker was told to abort and, after the grace period, terminated. */
export class TaskTimeoutError extends DiscordTasksError {
	override readonly name = 'TaskTimeoutError';
	readonly loopName: string;
	readonly iteration: number;
	readonly timeoutMs: number;
	constructor(message: string, info: IterationInfo & { timeoutMs: number; cause?: unknown }) {
		super(message, { code: ErrorCode.TaskTimeout, cause: info.cause });
		this.loopName = info.loopName;
		this.iteration = info.iteration;
		this.timeoutMs = info.timeoutMs;
	}
	get [kTaskTimeoutError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kTaskTimeoutError);
	}
}

/** A running iteration was cancelled (`loop.cancel()`); `cause` is the abort reason. Named `AbortError` for interop. */
export class TaskAbortedError extends DiscordTasksError {
	override readonly name = 'AbortError';
	constructor(message: string, options: { cause?: unknown } = {}) {
		super(message, { code: ErrorCode.TaskAborted, cause: options.cause });
	}
	get [kTaskAbortedError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kTaskAbortedError);
	}
}

/** A task module could not be found or has no task as its default export. */
export class TaskModuleError extends DiscordTasksError {
	override readonly name = 'TaskModuleError';
	/** The module's URL as given. */
	readonly moduleUrl: string;
	constructor(
		message: string,
		info: {
			moduleUrl: string;
			code: typeof ErrorCode.TaskModuleNotFound | typeof ErrorCode.TaskModuleInvalid;
			cause?: unknown;
		},
	) {
		super(message, { code: info.code, cause: info.cause });
		this.moduleUrl = info.moduleUrl;
	}
	get [kTaskModuleError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kTaskModuleError);
	}
}

/** Why a worker went away. */
export interface WorkerCrashInfo {
	/** A short description: `'exited with code 3'`, `'ran out of memory'`, `'uncaught error'`. */
	readonly reason: string;
	/** The worker's exit code, when it exited. */
	readonly exitCode?: number;
	readonly cause?: unknown;
}

/** The worker running an iteration died (exit, uncaught error, out of memory). The pool replaces it. */
export class WorkerCrashedError extends DiscordTasksError {
	override readonly name = 'WorkerCrashedError';
	readonly reason: string;
	readonly exitCode: number | undefined;
	constructor(message: string, info: WorkerCrashInfo & { code?: typeof ErrorCode.WorkerOutOfMemory }) {
		super(message, { code: info.code ?? ErrorCode.WorkerCrashed, cause: info.cause });
		this.reason = info.reason;
		this.exitCode = info.exitCode;
	}
	get [kWorkerCrashedError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kWorkerCrashedError);
	}
}

/** A call was made on a pool (or channel) that is closed. */
/**
 * The cluster backend cannot work: Redis cannot be reached (`ERR_BACKEND_UNAVAILABLE`), or it is set up in a way
 * that would lose loops (`ERR_BACKEND_MISCONFIGURED`: a wrong password, an eviction policy, data of another BullMQ
 * major version under the prefix). The message says what to do.
 */
export class BackendError extends DiscordTasksError {
	override readonly name = 'BackendError';
	constructor(
		message: string,
		options: { code: typeof ErrorCode.BackendUnavailable | typeof ErrorCode.BackendMisconfigured; cause?: unknown },
	) {
		super(message, options);
	}
}

export class PoolClosedError extends DiscordTasksError {
	override readonly name = 'PoolClosedError';
	constructor(message: string, options: { cause?: unknown } = {}) {
		super(message, { code: ErrorCode.PoolClosed, cause: options.cause });
	}
	get [kPoolClosedError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kPoolClosedError);
	}
}

/** A pool has as many iterations running and waiting as `threads + maxQueue` allow; retried by default. */
export class PoolQueueFullError extends DiscordTasksError {
	override readonly name = 'PoolQueueFullError';
	constructor(message: string, options: { cause?: unknown } = {}) {
		super(message, { code: ErrorCode.PoolQueueFull, cause: options.cause });
	}
	get [kPoolQueueFullError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kPoolQueueFullError);
	}
}

/** A task asked the main thread for something it may not have: a service that does not exist, or a Discord route or channel outside its allowlist. */
/**
 * A task returned a value that cannot be handed to the main thread: a function, a class instance, a Proxy, or a
 * value too large to take. The body ran; its result is refused, so the iteration fails with this error (not retried
 * by default: the same body returns the same kind of value again).
 */
export class TaskResultError extends DiscordTasksError {
	override readonly name = 'TaskResultError';
	readonly loopName: string;
	readonly iteration: number;
	constructor(message: string, info: IterationInfo & { cause?: unknown }) {
		super(message, { code: ErrorCode.TaskResultInvalid, cause: info.cause });
		this.loopName = info.loopName;
		this.iteration = info.iteration;
	}
	get [kTaskResultError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kTaskResultError);
	}
}

/** A task called a service (`ctx.host.name()`) that its pool does not have. */
export class ServiceNotFoundError extends DiscordTasksError {
	override readonly name = 'ServiceNotFoundError';
	constructor(message: string, options: { cause?: unknown } = {}) {
		super(message, { code: ErrorCode.ServiceNotFound, cause: options.cause });
	}
	get [kServiceNotFoundError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kServiceNotFoundError);
	}
}

export class DiscordAccessError extends DiscordTasksError {
	override readonly name = 'DiscordAccessError';
	get [kDiscordAccessError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kDiscordAccessError);
	}
}

/** The main thread and a worker disagree about the contract (a worker host from another release). */
export class ProtocolError extends DiscordTasksError {
	override readonly name = 'ProtocolError';
	get [kProtocolError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kProtocolError);
	}
}

/**
 * An error thrown on the other side of the thread boundary whose class does not exist here. It keeps the
 * remote `name`, `message`, `code`, `stack`, own fields and class chain, so `error.code === 'ECONNRESET'`
 * checks keep working and `loop.addExceptionType(SomeClass)` matches it by class name.
 */
export class RemoteError extends Error {
	override readonly name: string;
	/** The remote error's `code`, if it had one (any string: `'ECONNRESET'`, `'E_QUOTA'`, ...). */
	readonly code: string | undefined;
	/** Constructor names up the remote prototype chain, most derived first. */
	readonly classChain: readonly string[];
	constructor(serialized: SerializedError, options: { cause?: unknown } = {}) {
		super(serialized.message, options.cause === undefined ? undefined : { cause: options.cause });
		this.name = serialized.name;
		this.code = serialized.code;
		this.classChain = serialized.classChain;
	}
	get [kRemoteError](): true {
		return true;
	}
	static override [Symbol.hasInstance](value: unknown): boolean {
		return hasBrand(value, kRemoteError);
	}
}

const RESERVED_FIELDS = new Set(['name', 'message', 'stack', 'code', 'cause']);

function classChainOf(value: object): string[] {
	const chain: string[] = [];
	let prototype = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
	while (prototype && prototype !== Object.prototype && chain.length < 32) {
		const name = prototype.constructor?.name;
		if (typeof name === 'string' && name !== '' && chain.at(-1) !== name) chain.push(name);
		prototype = Object.getPrototypeOf(prototype) as typeof prototype;
	}
	return chain;
}

function isErrorLike(value: unknown): value is Error {
	return (
		value instanceof Error || (typeof value === 'object' && value !== null && 'message' in value && 'name' in value)
	);
}

/** Reads `object[key]`; `undefined` when a getter or a proxy trap throws. */
function read(object: object, key: string): unknown {
	try {
		return (object as Record<string, unknown>)[key];
	} catch {
		return undefined;
	}
}

/** `String(value)`, or `fallback` when that throws (a throwing `toString`, `Object.create(null)`). */
function safeString(value: unknown, fallback: string): string {
	try {
		return String(value);
	} catch {
		return fallback;
	}
}

/**
 * Turns anything a task may throw into a {@link SerializedError}. Never throws: a field whose getter throws is
 * left out, and a value that cannot be inspected at all (a revoked proxy) becomes an `'UnserializableError'`.
 * The worker host relies on this: if it threw, a body's failure would surface as a crashed worker.
 *
 * @param value - The thrown value (an Error of any class, or anything else: `'x'`, `null`, `{}`).
 * @param depth - Internal: current cause depth.
 */
export function serializeError(value: unknown, depth = 0): SerializedError {
	try {
		return serializeValue(value, depth);
	} catch {
		return {
			name: 'UnserializableError',
			message: `A thrown ${value === null ? 'null' : typeof value} could not be inspected to send it across threads`,
			classChain: [],
		};
	}
}

function serializeValue(value: unknown, depth: number): SerializedError {
	if (!isErrorLike(value)) {
		const type = value === null ? 'null' : typeof value;
		const cloneable = describeUncloneable(value, 'value') === undefined;
		const message = typeof value === 'string' ? value : safeString(value, `a thrown ${type}`);
		return {
			name: 'NonErrorThrown',
			message,
			classChain: [],
			nonError: { value: cloneable ? (value as Cloneable) : message, type },
		};
	}
	const error: object = value;
	const data: Record<string, Cloneable> = {};
	let hasData = false;
	for (const key of Object.keys(error)) {
		if (RESERVED_FIELDS.has(key)) continue;
		let field: unknown;
		try {
			field = (error as Record<string, unknown>)[key];
		} catch {
			continue;
		}
		if (describeUncloneable(field, key) === undefined) {
			data[key] = field as Cloneable;
			hasData = true;
		}
	}
	const serialized: {
		-readonly [K in keyof SerializedError]: SerializedError[K];
	} = {
		name: safeString(read(error, 'name'), 'Error'),
		message: safeString(read(error, 'message'), ''),
		// A chain found on the error is copied bounded: a body can set the symbol to anything.
		classChain:
			remoteClassChain(error)
				?.slice(0, 32)
				.filter((name) => typeof name === 'string') ?? classChainOf(error),
	};
	const code = read(error, 'code');
	if (typeof code === 'string' || typeof code === 'number') serialized.code = String(code);
	const stack = read(error, 'stack');
	if (typeof stack === 'string') serialized.stack = stack;
	if (hasData) serialized.data = data;
	const cause = 'cause' in error ? read(error, 'cause') : undefined;
	if (cause !== undefined && depth < MAX_CAUSE_DEPTH) serialized.cause = serializeError(cause, depth + 1);
	return serialized;
}

const BUILT_IN_ERRORS: Readonly<Record<string, ErrorConstructor>> = {
	Error,
	TypeError,
	RangeError,
	SyntaxError,
	ReferenceError,
	EvalError,
	URIError,
};

type ErrorFactory = (serialized: SerializedError, cause: unknown) => Error;
const field = <T>(serialized: SerializedError, key: string, fallback: T): T =>
	(serialized.data?.[key] as T | undefined) ?? fallback;

/** Code → class: how our own errors are rebuilt with their class. */
const REGISTRY: Readonly<Record<ErrorCode, ErrorFactory>> = {
	ERR_BACKEND_UNAVAILABLE: (s, cause) => new BackendError(s.message, { code: ErrorCode.BackendUnavailable, cause }),
	ERR_BACKEND_MISCONFIGURED: (s, cause) => new BackendError(s.message, { code: ErrorCode.BackendMisconfigured, cause }),
	ERR_INVALID_OPTION: (s, cause) => new InvalidOptionError(field(s, 'option', ''), s.message, { cause }),
	ERR_INVALID_ARGUMENT: (s, cause) =>
		new InvalidOptionError(field(s, 'option', ''), s.message, { code: ErrorCode.InvalidArgument, cause }),
	ERR_LOOP_ALREADY_RUNNING: (s, cause) => new LoopStateError(s.message, { code: ErrorCode.LoopAlreadyRunning, cause }),
	ERR_LOOP_NAME_TAKEN: (s, cause) => new LoopStateError(s.message, { code: ErrorCode.LoopNameTaken, cause }),
	ERR_LOOP_NOT_FOUND: (s, cause) => new LoopStateError(s.message, { code: ErrorCode.LoopNotFound, cause }),
	ERR_CONTROLLER_CLOSED: (s, cause) => new LoopStateError(s.message, { code: ErrorCode.ControllerClosed, cause }),
	ERR_TASK_FAILED: (s, cause) =>
		new TaskError(s.message, { loopName: field(s, 'loopName', ''), iteration: field(s, 'iteration', 0), cause }),
	ERR_TASK_TIMEOUT: (s, cause) =>
		new TaskTimeoutError(s.message, {
			loopName: field(s, 'loopName', ''),
			iteration: field(s, 'iteration', 0),
			timeoutMs: field(s, 'timeoutMs', 0),
			cause,
		}),
	ERR_TASK_ABORTED: (s, cause) => new TaskAbortedError(s.message, { cause }),
	ERR_TASK_MODULE_NOT_FOUND: (s, cause) =>
		new TaskModuleError(s.message, { moduleUrl: field(s, 'moduleUrl', ''), code: ErrorCode.TaskModuleNotFound, cause }),
	ERR_TASK_MODULE_INVALID: (s, cause) =>
		new TaskModuleError(s.message, { moduleUrl: field(s, 'moduleUrl', ''), code: ErrorCode.TaskModuleInvalid, cause }),
	ERR_TASK_RESULT_INVALID: (s, cause) =>
		new TaskResultError(s.message, { loopName: field(s, 'loopName', ''), iteration: field(s, 'iteration', 0), cause }),
	ERR_WORKER_CRASHED: (s, cause) =>
		new WorkerCrashedError(s.message, {
			reason: field(s, 'reason', 'crashed'),
			...(s.data?.['exitCode'] === undefined ? {} : { exitCode: field(s, 'exitCode', 0) }),
			cause,
		}),
	ERR_WORKER_OUT_OF_MEMORY: (s, cause) =>
		new WorkerCrashedError(s.message, {
			reason: field(s, 'reason', 'ran out of memory'),
			code: ErrorCode.WorkerOutOfMemory,
			cause,
		}),
	ERR_POOL_CLOSED: (s, cause) => new PoolClosedError(s.message, { cause }),
	ERR_POOL_QUEUE_FULL: (s, cause) => new PoolQueueFullError(s.message, { cause }),
	ERR_SERVICE_NOT_FOUND: (s, cause) => new ServiceNotFoundError(s.message, { cause }),
	ERR_DISCORD_ACCESS_DENIED: (s, cause) =>
		new DiscordAccessError(s.message, { code: ErrorCode.DiscordAccessDenied, cause }),
	ERR_DISCORD_UNAVAILABLE: (s, cause) =>
		new DiscordAccessError(s.message, { code: ErrorCode.DiscordUnavailable, cause }),
	ERR_PROTOCOL_VERSION_MISMATCH: (s, cause) =>
		new ProtocolError(s.message, { code: ErrorCode.ProtocolVersionMismatch, cause }),
	ERR_PROTOCOL_UNEXPECTED_MESSAGE: (s, cause) =>
		new ProtocolError(s.message, { code: ErrorCode.ProtocolUnexpectedMessage, cause }),
};

/** The codes that have a class in the registry (for the docs/registry sync test). @internal */
export const REGISTERED_CODES: readonly string[] = Object.keys(REGISTRY);

function isOurCode(code: string | undefined): code is ErrorCode {
	return code !== undefined && Object.hasOwn(REGISTRY, code);
}

const stringOr = (value: unknown, fallback: string): string => (typeof value === 'string' ? value : fallback);
const isPlainRecord = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' &&
	value !== null &&
	!Array.isArray(value) &&
	(Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

/**
 * A {@link SerializedError} as it arrived from the other side, made well-formed: every field of the right type,
 * the cause chain no deeper than {@link MAX_CAUSE_DEPTH}. A worker is code the main thread does not control, and
 * what it sends in place of an error (junk, a forged outcome) must rebuild into an error, never throw.
 * @internal
 */
export function sanitizeSerializedError(value: unknown, depth: number): SerializedError {
	if (!isPlainRecord(value)) {
		return { name: 'UnserializableError', message: 'The other side sent an error that is not one', classChain: [] };
	}
	// Sliced before it is filtered: the chain may be a sparse array of length 2^32 - 1.
	const chain = Array.isArray(value['classChain'])
		? (value['classChain'] as unknown[]).slice(0, 32).filter((name): name is string => typeof name === 'string')
		: [];
	const result: { -readonly [K in keyof SerializedError]: SerializedError[K] } = {
		name: stringOr(value['name'], 'Error'),
		message: stringOr(value['message'], ''),
		classChain: chain,
	};
	const { code, stack, data, cause, nonError } = value;
	if (typeof code === 'string') result.code = code;
	if (typeof stack === 'string') result.stack = stack;
	if (isPlainRecord(data)) result.data = data as { readonly [key: string]: Cloneable };
	if (cause !== undefined && depth < MAX_CAUSE_DEPTH) result.cause = sanitizeSerializedError(cause, depth + 1);
	if (isPlainRecord(nonError) && 'value' in nonError) {
		result.nonError = { value: nonError['value'] as Cloneable, type: stringOr(nonError['type'], 'unknown') };
	}
	return result;
}

/**
 * Rebuilds a thrown value from its {@link SerializedError}: our own errors with their class (by code),
 * built-in errors (`TypeError`, ...) with theirs, anything else as a {@link RemoteError} that keeps the
 * remote name and class chain. Non-Error throwables come back as the value itself.
 */
export function deserializeError(input: SerializedError): unknown {
	return rebuildError(sanitizeSerializedError(input, 0));
}

function rebuildError(serialized: SerializedError): unknown {
	if (serialized.nonError) return serialized.nonError.value;
	const cause = serialized.cause === undefined ? undefined : rebuildError(serialized.cause);
	let error: Error;
	const isOurs = isOurCode(serialized.code) && serialized.classChain.includes('DiscordTasksError');
	if (isOurs) {
		error = REGISTRY[serialized.code as ErrorCode](serialized, cause);
	} else {
		// Own keys only: a name like 'constructor' or 'toString' must not pick up Object.prototype's members.
		const BuiltIn = Object.hasOwn(BUILT_IN_ERRORS, serialized.name) ? BUILT_IN_ERRORS[serialized.name] : undefined;
		if (BuiltIn && serialized.classChain[0] === serialized.name) {
			error = cause === undefined ? new BuiltIn(serialized.message) : new BuiltIn(serialized.message, { cause });
		} else {
			error = new RemoteError(serialized, { cause });
		}
		if (serialized.code !== undefined && !(error instanceof RemoteError)) {
			Object.defineProperty(error, 'code', {
				value: serialized.code,
				enumerable: true,
				configurable: true,
				writable: true,
			});
		}
	}
	for (const [key, value] of Object.entries(serialized.data ?? {})) {
		if (!(key in error)) (error as unknown as Record<string, unknown>)[key] = value;
	}
	if (serialized.stack !== undefined) error.stack = serialized.stack;
	Object.defineProperty(error, kClassChain, { value: serialized.classChain, enumerable: false });
	return error;
}
