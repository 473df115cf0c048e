import { types } from 'node:util';

/**
 * A value that survives `structuredClone` / `postMessage` unchanged in meaning: what may cross the
 * thread boundary. Class instances (methods would be lost), functions and symbols are excluded.
 */
export type Cloneable =
	| string
	| number
	| boolean
	| bigint
	| null
	| undefined
	| Date
	| RegExp
	| ArrayBuffer
	| ArrayBufferView
	| readonly Cloneable[]
	| ReadonlyMap<Cloneable, Cloneable>
	| ReadonlySet<Cloneable>
	| { readonly [key: string]: Cloneable };

/**
 * Describes why `value` cannot cross the thread boundary, or returns `undefined` when it can.
 * Stricter than `structuredClone`: class instances other than the built-in cloneable ones are refused,
 * because their prototype (and so their methods) would silently be dropped on the other side.
 *
 * @param value - The value to check.
 * @param path - Where the value sits, used in the description (for example `args[0].user`).
 * @returns A sentence naming the first offending path and what was found there, or `undefined`.
 */
export function describeUncloneable(value: unknown, path: string, seen = new Set<object>()): string | undefined {
	switch (typeof value) {
		case 'string':
		case 'number':
		case 'boolean':
		case 'bigint':
		case 'undefined':
			return undefined;
		case 'function':
			return `${path} is a function`;
		case 'symbol':
			return `${path} is a symbol`;
		default:
			break;
	}
	if (value === null) return undefined;
	const object = value as object;
	// A Proxy passes every check below through its traps and then fails (or clones differently) inside
	// structuredClone, where the failure would look like a crashed worker.
	if (types.isProxy(object)) return `${path} is a Proxy (structured clone cannot copy it: pass the plain data)`;
	if (seen.has(object)) return undefined;
	seen.add(object);
	if (object instanceof Date || object instanceof RegExp || object instanceof ArrayBuffer) return undefined;
	if (ArrayBuffer.isView(object)) return undefined;
	if (Array.isArray(object)) {
		for (let index = 0; index < object.length; index++) {
			const problem = describeUncloneable(object[index], `${path}[${index}]`, seen);
			if (problem) return problem;
		}
		return undefined;
	}
	if (object instanceof Map) {
		for (const [key, entry] of object) {
			const problem =
				describeUncloneable(key, `${path} (a Map key)`, seen) ?? describeUncloneable(entry, `${path}.get(…)`, seen);
			if (problem) return problem;
		}
		return undefined;
	}
	if (object instanceof Set) {
		for (const entry of object) {
			const problem = describeUncloneable(entry, `${path} (a Set entry)`, seen);
			if (problem) return problem;
		}
		return undefined;
	}
	const prototype = Object.getPrototypeOf(object);
	if (prototype !== Object.prototype && prototype !== null) {
		const name = (prototype as { constructor?: { name?: string } }).constructor?.name ?? 'an unknown class';
		return `${path} is an instance of ${name} (only plain objects, arrays, Map, Set, Date and typed arrays cross to a worker; its methods would be lost)`;
	}
	for (const key of Object.keys(object)) {
		const problem = describeUncloneable((object as Record<string, unknown>)[key], `${path}.${key}`, seen);
		if (problem) return problem;
	}
	return undefined;
}
