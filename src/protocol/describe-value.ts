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
