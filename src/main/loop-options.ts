import {
	assertClockTime,
	assertKnownKeys,
	assertMethods,
	assertNumber,
	assertOptionsObject,
	checkedRandom,
	invalidOption,
	MAX_SCHEDULE_MS,
	optionKeySet,
} from '../protocol/index.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { MissedIterations, SCHEDULE_OPTION_KEYS, type ScheduleOptions } from './schedule.js';

/** Where a loop writes its retry warnings and (through the default error hook) its unhandled errors. */
export interface LoopLogger {
	warn(message: string, error?: unknown): void;
	error(message: string, error?: unknown): void;
}

/**
 * The default logger: writes to stderr, with the error's stack, as discord.py logs to its library logger.
 */
export const stderrLogger: LoopLogger = {
	warn: (message, error) => process.stderr.write(`${formatLogLine('warn', message, error)}\n`),
	error: (message, error) => process.stderr.write(`${formatLogLine('error', message, error)}\n`),
};

function formatLogLine(level: string, message: string, error: unknown): string {
	const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : error;
	return detail === undefined
		? `[discord-tasks] ${level}: ${message}`
		: `[discord-tasks] ${level}: ${message}\n${String(detail)}`;
}

/** A hook called with no arguments: `beforeLoop` and `afterLoop`. */
export type LoopHook = () => unknown;
/** The error hook: receives the error that ended the run and the loop. */
export type LoopErrorHook<L> = (error: unknown, loop: L) => unknown;

/**
 * Options of `loop()` besides the schedule.
 *
 * @typeParam L - The loop type the error hook receives.
 */
export interface LoopSettings<L = unknown> {
	/**
	 * Run the body this many times, then end the run (discord.py's `count`); `null` means forever. Only
	 * successful iterations count (A11). Must be a positive integer.
	 * @defaultValue null
	 */
	readonly count?: number | null;
	/**
	 * Retry failures whose error matches the loop's exception types (network errors, Discord 5xx/429,
	 * timeouts, worker crashes by default) with exponential backoff, instead of ending the run.
	 * @defaultValue true
	 */
	readonly reconnect?: boolean;
	/** The loop's name, used in logs, errors and by the controller. @defaultValue the body's function name */
	readonly name?: string;
	/**
	 * A random delay in `[0, jitterMs)` added to every target, to spread many loops on the same schedule (except
	 * the first iteration of an interval loop, which runs at once, A9).
	 * Never makes an iteration early.
	 * @defaultValue 0
	 */
	readonly jitterMs?: number;
	/**
	 * What an interval loop does with the targets a slow iteration (or a retry) made it miss: `'skip'` runs
	 * once and goes back to its grid; `'catchUp'` runs every missed target back to back, as discord.py does.
	 * @defaultValue 'skip'
	 */
	readonly missedIterations?: MissedIterations;
	/** Same as calling `loop.beforeLoop(fn)`. */
	readonly beforeLoop?: LoopHook;
	/** Same as calling `loop.afterLoop(fn)`. */
	readonly afterLoop?: LoopHook;
	/** Same as calling `loop.onError(fn)`. */
	readonly onError?: LoopErrorHook<L>;
	/**
	 * Extra retry rule for errors no class expresses: return `true` to retry the error with backoff (when
	 * `reconnect` is on) even if no exception type matches it.
	 */
	readonly retryOn?: (error: unknown) => boolean;
	/** Where time is read and waited for. Tests inject one; the default uses `Date.now` and the global `setTimeout`. @defaultValue systemClock */
	readonly clock?: Clock;
	/** Random source in `[0, 1)` for backoff and jitter; a draw outside `[0, 1]` fails the run. @defaultValue Math.random */
	readonly random?: () => number;
	/** Where retry warnings and the default error hook write. @defaultValue stderrLogger */
	readonly logger?: LoopLogger;
}

/**
 * Options of `loop()`. The schedule is one of: `seconds`/`minutes`/`hours` (an interval), `time` (times of
 * day) or `cron`; with none of them, iterations run back to back (discord.py's default of 0 s).
 *
 * @typeParam L - The loop type the error hook receives.
 */
export type LoopOptions<L = unknown> = ScheduleOptions & LoopSettings<L>;

/** The non-schedule options after defaults. */
export interface ResolvedLoopOptions {
	readonly count: number | null;
	readonly reconnect: boolean;
	readonly name: string | undefined;
	readonly jitterMs: number;
	readonly missedIterations: MissedIterations;
	readonly retryOn: ((error: unknown) => boolean) | undefined;
	readonly clock: Clock;
	readonly random: () => number;
	readonly logger: LoopLogger;
}

/** Defaults of the loop options. */
export const DEFAULT_LOOP_OPTIONS = {
	count: null,
	reconnect: true,
	jitterMs: 0,
	missedIterations: MissedIterations.Skip,
} as const satisfies Partial<ResolvedLoopOptions>;

/** Every option `loop()` understands; anything else is refused as a likely typo. @internal */
export const LOOP_OPTION_KEYS: ReadonlySet<string> = new Set([
	...SCHEDULE_OPTION_KEYS,
	...optionKeySet<LoopSettings>({
		count: true,
		reconnect: true,
		name: true,
		jitterMs: true,
		missedIterations: true,
		beforeLoop: true,
		afterLoop: true,
		onError: true,
		retryOn: true,
		clock: true,
		random: true,
		logger: true,
	}),
]);

/**
 * Checks `count` (C3): `null`/`undefined` for forever, else a positive integer.
 * @throws {@link InvalidOptionError}
 */
export function assertCount(count: unknown): number | null {
	if (count === undefined || count === null) return null;
	return assertNumber(count, 'count', { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true });
}

/**
 * Checks that a hook or body is a function.
 * @throws {@link InvalidOptionError}
 */
export function assertFunction(value: unknown, option: string): void {
	if (typeof value !== 'function') {
		throw invalidOption(option, 'a function', value);
	}
}

/**
 * Validates and defaults the loop options other than the schedule (which `resolveSchedule` handles).
 *
 * @param extraKeys - Option names a caller adds (the worker options), accepted besides {@link LOOP_OPTION_KEYS}.
 * @throws {@link InvalidOptionError} naming the option and the value it got.
 */
export function resolveLoopOptions(
	options: unknown,
	extraKeys: ReadonlySet<string> = new Set(),
	elsewhere: Readonly<Record<string, string>> = {},
): ResolvedLoopOptions {
	assertOptionsObject(options, 'loop options');
	assertKnownKeys(options, new Set([...LOOP_OPTION_KEYS, ...extraKeys]), 'loop()', elsewhere);
	const o = options as LoopOptions;
	const count = assertCount(o.count);
	if (o.reconnect !== undefined && typeof o.reconnect !== 'boolean') {
		throw invalidOption('reconnect', 'a boolean', o.reconnect);
	}
	if (o.name !== undefined && (typeof o.name !== 'string' || o.name.trim() === '')) {
		throw invalidOption('name', 'a non-empty string', o.name);
	}
	const jitterMs = assertNumber(o.jitterMs ?? DEFAULT_LOOP_OPTIONS.jitterMs, 'jitterMs', {
		min: 0,
		max: MAX_SCHEDULE_MS,
		unit: 'ms',
	});
	const missed = o.missedIterations ?? DEFAULT_LOOP_OPTIONS.missedIterations;
	if (missed !== MissedIterations.Skip && missed !== MissedIterations.CatchUp) {
		throw invalidOption('missedIterations', "'skip' or 'catchUp'", missed);
	}
	for (const hook of ['beforeLoop', 'afterLoop', 'onError', 'retryOn', 'random'] as const) {
		if (o[hook] !== undefined) assertFunction(o[hook], hook);
	}
	assertMethods(o.clock, 'clock', ['now', 'sleep']);
	assertMethods(o.logger, 'logger', ['warn', 'error']);
	return {
		count,
		reconnect: o.reconnect ?? DEFAULT_LOOP_OPTIONS.reconnect,
		name: o.name,
		jitterMs,
		missedIterations: missed,
		retryOn: o.retryOn,
		clock: o.clock ? checkedClock(o.clock) : systemClock,
		random: o.random ? checkedRandom(o.random) : Math.random,
		logger: o.logger ?? stderrLogger,
	};
}

/**
 * A user's clock whose `now()` is checked at every read: a NaN or infinite time would make every target unreachable
 * or already past, so the run fails with a clear error instead of spinning or never waking.
 */
function checkedClock(clock: Clock): Clock {
	return {
		now: () => assertClockTime(clock.now()),
		sleep: (ms, signal) => clock.sleep(ms, signal),
	};
}
