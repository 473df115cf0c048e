import { InvalidOptionError } from './errors.js';

/**
 * Describes a received value for an error message: `'25:00' (string)`, `-5 (number)`, `a Date`.
 *
 * @param value - Any value.
 * @returns A short description that never throws.
 * @internal
 */
export function describeValue(value: unknown): string {
	switch (typeof value) {
		case 'string':
			return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}' (string)`;
		case 'number':
		case 'boolean':
			return `${String(value)} (${typeof value})`;
		case 'bigint':
			return `${String(value)}n (bigint)`;
		case 'symbol':
			return `${value.toString()} (symbol)`;
		case 'function':
			return 'a function';
		case 'undefined':
			return 'undefined';
		default:
			break;
	}
	if (value === null) return 'null';
	if (Array.isArray(value)) return `an array of length ${value.length}`;
	const prototype: unknown = Object.getPrototypeOf(value);
	if (prototype === Object.prototype || prototype === null) return 'an object';
	const name = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
	return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object';
}

/**
 * Refuses keys of an options object that are not in `known`, so a typo (`minute` for `minutes`) fails loudly
 * instead of silently meaning the default. The message lists what is accepted.
 *
 * @param options - The options object (already known to be an object).
 * @param known - The accepted keys.
 * @param what - What takes the options, for the message: `'loop()'`, `'TaskPool'`.
 * @param path - Where the options object sits, for the refused option's name (`'discord'` → `'discord.chanels'`).
 * @throws {@link InvalidOptionError} naming the first unknown key.
 */
export function assertKnownKeys(options: object, known: ReadonlySet<string>, what: string, path?: string): void {
	for (const key of Object.keys(options)) {
		if (!known.has(key)) {
			throw new InvalidOptionError(
				path === undefined ? key : `${path}.${key}`,
				`Unknown ${what} option \`${key}\`: expected one of ${[...known].join(', ')}`,
			);
		}
	}
}
