import { ErrorCode, invalidOption as formatInvalidOption, type InvalidOptionError } from '../protocol/index.js';

/**
 * Builds the error thrown for a bad constructor option or method argument of the loopback gateway, in the house
 * format: `` `heartbeatIntervalMs` must be a positive integer, got -5 (number) ``.
 * @param name - The option or argument, with its path (`'channels[1].guildId'`, `'failRest.status'`).
 * @param expected - What was expected, completing "must be ...".
 * @param value - The refused value.
 * @param kind - `'option'` for constructor options, `'argument'` for method arguments.
 * @internal
 */
export function invalidOption(
	name: string,
	expected: string,
	value: unknown,
	kind: 'option' | 'argument' = 'argument',
): InvalidOptionError {
	return formatInvalidOption(
		name,
		expected,
		value,
		kind === 'option' ? ErrorCode.InvalidOption : ErrorCode.InvalidArgument,
	);
}

/** Snowflakes are 64-bit unsigned integers written in decimal. */
const SNOWFLAKE_PATTERN = /^\d{1,20}$/;

/**
 * Whether `value` looks like a Discord snowflake id.
 * @internal
 */
export function isSnowflake(value: unknown): value is string {
	return typeof value === 'string' && SNOWFLAKE_PATTERN.test(value);
}
