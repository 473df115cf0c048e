import { describeValue } from './describe-value.js';
import { ErrorCode, InvalidOptionError } from './errors.js';

/**
 * The longest delay a single `setTimeout` can wait: a longer one overflows a 32-bit int and fires at once (Node
 * prints a TimeoutOverflowWarning and uses 1 ms). Options that become one timer (`timeoutMs`, `graceMs`, ...) stop
 * here.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The longest interval or jitter a loop accepts: 100 years of 365 days. Sleeps that long are split into timers,
 * and every target stays far inside the range of a `Date` (±8.64e15 ms), so `nextIteration` and the controller's
 * status never hold an Invalid Date.
 */
export const MAX_SCHEDULE_MS = 100 * 365 * 24 * 3600 * 1000;

/** The range a number-valued option must fall in. */
export interface NumberRange {
	/** Smallest accepted value. */
	readonly min: number;
	/** Largest accepted value. */
	readonly max: number;
	/** Only whole numbers. @defaultValue false */
	readonly integer?: boolean;
	/** Unit named after the limits in the message (`'ms'`, `'s'`). */
	readonly unit?: string;
}

/**
 * Builds the error for a refused option in the house format: `` `seconds` must be ..., got -5 (number) ``.
 *
 * @param option - The option's name, with its path (`'channels[1].guildId'`).
 * @param expected - What was expected, completing "must be ...".
 * @param value - The refused value.
 * @param code - `ERR_INVALID_OPTION` for options, `ERR_INVALID_ARGUMENT` for call arguments.
 * @returns The error, for the caller to throw.
 */
export function invalidOption(
	option: string,
	expected: string,
	value: unknown,
	code: typeof ErrorCode.InvalidOption | typeof ErrorCode.InvalidArgument = ErrorCode.InvalidOption,
): InvalidOptionError {
	return new InvalidOptionError(option, `\`${option}\` must be ${expected}, got ${describeValue(value)}`, { code });
}

function formatLimit(limit: number): string {
	return Number.isSafeInteger(limit) ? String(limit) : limit.toPrecision(6).replace(/\.?0+(e|$)/, '$1');
}

/**
 * Describes a range for a message: `an integer from 1 to 1024`, `a number of ms from 0 to 2147483647`.
 * @internal
 */
export function describeRange(range: NumberRange): string {
	const kind = range.integer ? 'an integer' : 'a number';
	const unit = range.unit ? ` of ${range.unit}` : '';
	return `${kind}${unit} from ${formatLimit(range.min)} to ${formatLimit(range.max)}`;
}

/**
 * Checks a number-valued option against its range (which excludes NaN and the infinities).
 *
 * @returns The value.
 * @throws {@link InvalidOptionError} naming the option, the range and the value got.
 */
export function assertNumber(value: unknown, option: string, range: NumberRange): number {
	if (
		typeof value !== 'number' ||
		!(value >= range.min && value <= range.max) ||
		(range.integer === true && !Number.isInteger(value))
	) {
		throw invalidOption(option, describeRange(range), value);
	}
	return value;
}

/**
 * Checks a duration option that becomes a single timer: a number of ms from 0 to {@link MAX_TIMER_MS}.
 * `undefined` (not given) passes.
 * @throws {@link InvalidOptionError}
 */
export function assertTimerMs(value: unknown, option: string): void {
	if (value !== undefined) assertNumber(value, option, { min: 0, max: MAX_TIMER_MS, unit: 'ms' });
}

/**
 * Checks an option that lists names (environment variables, flags): an array of strings. `undefined` passes.
 * @throws {@link InvalidOptionError}
 */
export function assertStringList(value: unknown, option: string): void {
	if (value !== undefined && (!Array.isArray(value) || value.some((name) => typeof name !== 'string'))) {
		throw invalidOption(option, 'an array of strings', value);
	}
}

/**
 * Checks an option that must be an object with some methods (a clock, a logger). `undefined` passes.
 * @throws {@link InvalidOptionError} naming the option, the methods and the value got.
 */
export function assertMethods(value: unknown, option: string, methods: readonly string[]): void {
	if (value === undefined) return;
	const target = value as Record<string, unknown> | null;
	if (typeof value !== 'object' || value === null || methods.some((name) => typeof target?.[name] !== 'function')) {
		throw invalidOption(option, `an object with ${methods.map((name) => `${name}()`).join(' and ')} methods`, value);
	}
}

/**
 * Checks that an options argument is a plain object (not null, not an array).
 * @param what - The message's subject: `'loop options'`, `'TaskPool options'`.
 * @throws {@link InvalidOptionError} with option `'options'`.
 */
export function assertOptionsObject(value: unknown, what: string): asserts value is object {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw new InvalidOptionError('options', `${what} must be an object, got ${describeValue(value)}`);
	}
}

/**
 * The keys of an options interface, as a set. Write the record as `{ ... } satisfies OptionKeys<XOptions>`: the
 * compiler then refuses both a missing key and one the interface does not have, so the runtime list cannot drift
 * from the type.
 */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Turns an {@link OptionKeys} record into the set {@link assertKnownKeys} takes.
 * @internal
 */
export function optionKeySet<T>(keys: OptionKeys<T>): ReadonlySet<string> {
	return new Set(Object.keys(keys));
}

/**
 * Refuses keys of an options object that are not in `known`, so a typo (`minute` for `minutes`) fails loudly
 * instead of silently meaning the default. The message lists what is accepted; for a key that is an option of
 * another kind of object (a worker loop's `timeoutMs` given to a main-thread loop), `elsewhere` says which.
 *
 * @param options - The options object (already known to be an object).
 * @param known - The accepted keys.
 * @param what - What takes the options, for the message: `'loop()'`, `'TaskPool'`.
 * @param elsewhere - Keys that are valid somewhere else, with where: `'worker loops (a task module as the body)'`.
 * @param path - Where the options object sits, for the refused option's name (`'discord'` → `'discord.chanels'`).
 * @throws {@link InvalidOptionError} naming the first unknown key.
 */
export function assertKnownKeys(
	options: object,
	known: ReadonlySet<string>,
	what: string,
	elsewhere: Readonly<Record<string, string>> = {},
	path?: string,
): void {
	for (const key of Object.keys(options)) {
		if (known.has(key)) continue;
		const owner = Object.hasOwn(elsewhere, key) ? elsewhere[key] : undefined;
		throw new InvalidOptionError(
			path === undefined ? key : `${path}.${key}`,
			owner === undefined
				? `Unknown ${what} option \`${key}\`: expected one of ${[...known].join(', ')}`
				: `\`${key}\` is an option of ${owner}, not of this ${what}`,
		);
	}
}

/**
 * Wraps a user's random source so that every draw is checked: a value outside `[0, 1]` (NaN, a negative, more than
 * 1) would give NaN, negative or unbounded delays, and a NaN target wakes at once, every time: a loop that should
 * run once a minute would spin. Exactly 1 is accepted although `Math.random()` never returns it: it gives the upper
 * bound of a backoff delay, which discord.py's `uniform(0, bound)` can return too (B2), and tests use it for that.
 *
 * @param random - The user's random source.
 * @param option - Its option name, for the message.
 * @returns A function returning the same values, that throws instead of returning a bad one.
 * @throws {@link InvalidOptionError} (from the returned function) naming the option and the value drawn.
 */
export function checkedRandom(random: () => number, option = 'random'): () => number {
	return () => {
		const value = random();
		if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
			throw invalidOption(`${option}()`, 'a number from 0 to 1', value);
		}
		return value;
	};
}

/**
 * Checks what a user's clock's `now()` returned: a finite number of ms (a NaN or infinite time makes every
 * target unreachable or already past, and the loop spins or never wakes).
 *
 * @returns The time.
 * @throws {@link InvalidOptionError} naming `clock.now()` and the value it returned.
 */
export function assertClockTime(value: unknown, option = 'clock.now()'): number {
	if (typeof value !== 'number' || !Number.isFinite(value)) {
		throw invalidOption(option, 'a finite number of ms since the epoch', value);
	}
	return value;
}
