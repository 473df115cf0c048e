import type { LoopEndReason } from './loop.js';
import { type LoopLogger, stderrLogger } from './loop-options.js';

/** The levels a {@link ControllerLogger} is called at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * One logging method of pino, winston, console or any logger like them. Typed loosely on purpose: those loggers
 * disagree on the order of the message and the fields (see {@link ControllerLogger}), and each must be accepted as
 * it is.
 */
export type LogMethod = (...args: never[]) => unknown;

/**
 * The logger of a `LoopController`: pino, winston, bunyan, `console`, or anything with these methods. A missing
 * `debug` or `info` means that level is off.
 *
 * Loggers disagree on argument order, so the controller calls them the way each expects: pino and bunyan (a logger
 * with `child()` and `bindings()` or `fields`) as `logger.warn(fields, message)`, every other one as
 * `logger.warn(message, fields)`, which is what console, winston and consola expect. A logger with
 * `isLevelEnabled(level)` (pino, winston) is asked first, so a disabled level costs nothing.
 */
export interface ControllerLogger {
	debug?: LogMethod;
	info?: LogMethod;
	warn: LogMethod;
	error: LogMethod;
	/** pino and winston have it; the controller skips a disabled level without building its fields. */
	isLevelEnabled?: (level: string) => boolean;
}

/**
 * The structured fields of every record the controller logs. `err` holds the error itself: pino serialises it with
 * its standard `err` serialiser, console prints its stack.
 */
export interface LogFields {
	/** The loop's name. */
	readonly loop: string;
	/** The iteration (`loop.currentLoop`), when the record is about one. */
	readonly iteration?: number;
	/** The iteration's target, ISO 8601. */
	readonly target?: string;
	/** Start minus target, in ms. */
	readonly latenessMs?: number;
	/** How long the body ran, in ms. */
	readonly durationMs?: number;
	/** The gap to the next target the body outlasted, in ms (overruns). */
	readonly intervalMs?: number;
	/** Targets skipped with `missedIterations: 'skip'`. */
	readonly skipped?: number;
	/** Whether the iteration retried a failed one. */
	readonly retry?: boolean;
	/** Why a run ended. */
	readonly reason?: LoopEndReason;
	/** The error, as thrown (or rebuilt from a worker). */
	readonly err?: unknown;
}

/** Calls `console`, winston and the default stderr logger with (message, fields), pino and bunyan with (fields, message). */
function takesFieldsFirst(logger: ControllerLogger): boolean {
	const candidate = logger as { readonly child?: unknown; readonly bindings?: unknown; readonly fields?: unknown };
	if (typeof candidate.child !== 'function') return false;
	return (
		typeof candidate.bindings === 'function' || (typeof candidate.fields === 'object' && candidate.fields !== null)
	);
}

/**
 * The default: warnings and errors to stderr, exactly as a loop's default logger writes them (message, then the
 * error's stack); debug and info off.
 */
export const stderrControllerLogger: ControllerLogger = {
	warn: ((message: string, fields?: LogFields) => stderrLogger.warn(message, fields?.err)) as LogMethod,
	error: ((message: string, fields?: LogFields) => stderrLogger.error(message, fields?.err)) as LogMethod,
};

/**
 * Writes the controller's records to a {@link ControllerLogger} in the order it expects, and never lets a logger
 * that throws break a loop (the record goes to stderr instead).
 * @internal
 */
export class LogSink {
	readonly #logger: ControllerLogger;
	readonly #fieldsFirst: boolean;

	/** @param logger - Checked by the controller: `warn` and `error` are functions. */
	constructor(logger: ControllerLogger = stderrControllerLogger) {
		this.#logger = logger;
		this.#fieldsFirst = takesFieldsFirst(logger);
	}

	/** Whether a record at `level` would be written: callers skip building its fields when it would not. */
	isEnabled(level: LogLevel): boolean {
		const logger = this.#logger;
		if (typeof logger[level] !== 'function') return false;
		return typeof logger.isLevelEnabled !== 'function' || logger.isLevelEnabled(level) !== false;
	}

	/** Writes one record (if its level is on). */
	log(level: LogLevel, message: string, fields: LogFields): void {
		const method = this.#logger[level] as ((...args: unknown[]) => unknown) | undefined;
		if (typeof method !== 'function') return;
		try {
			if (this.#fieldsFirst) method.call(this.#logger, fields, message);
			else method.call(this.#logger, message, fields);
		} catch (error) {
			// Called from loop event listeners: a throw here would be reported through this same logger.
			stderrLogger.error(`The logger threw while writing: ${message}`, error);
		}
	}

	/**
	 * A loop's own logger (retry warnings, the default error hook) that writes through this sink with the loop's
	 * fields; `fields()` is read at each call, so it can name the loop before the loop exists.
	 */
	loopLogger(fields: () => LogFields): LoopLogger {
		const write = (level: LogLevel, message: string, error: unknown) =>
			this.log(level, message, error === undefined ? fields() : { ...fields(), err: error });
		return {
			warn: (message, error) => write('warn', message, error),
			error: (message, error) => write('error', message, error),
		};
	}
}

/**
 * Checks a `logger` option: an object with `warn` and `error` methods, `debug` and `info` optional.
 * @returns The reason it is refused, or `undefined` when it is a logger.
 * @internal
 */
export function describeBadLogger(logger: unknown): string | undefined {
	if (typeof logger !== 'object' || logger === null) return 'an object';
	const methods = logger as Record<LogLevel, unknown>;
	for (const level of ['warn', 'error'] as const) {
		if (typeof methods[level] !== 'function') return `a \`${level}\` method`;
	}
	for (const level of ['debug', 'info'] as const) {
		if (methods[level] !== undefined && typeof methods[level] !== 'function') return `\`${level}\` to be a method`;
	}
	return undefined;
}
