/** The longest array (or Map, or Set) accepted from the other side of the boundary. */
export const MAX_COLLECTION_SIZE = 1_000_000;
/** How many values (at any depth) one value from the other side may hold. */
export const MAX_VALUE_NODES = 2_000_000;

/**
 * Says why a value that came from the other side of the boundary is too large to handle, or `undefined` when it
 * is not. Structured clone carries a sparse array of length 2^32 - 1 in a few bytes; spreading or walking it would
 * exhaust the heap or hold the thread for minutes, so a length is checked before anything iterates it, and the
 * whole walk has a budget.
 *
 * @param value - The value as it arrived.
 * @param path - Where the value sits, for the description (`args`, `payload.embeds`).
 */
export function describeOversized(value: unknown, path: string): string | undefined {
	if (typeof value !== 'object' || value === null) return undefined;
	let budget = MAX_VALUE_NODES;
	const seen = new Set<object>();
	/** Where the walk is (a number is an array index): made into a path only for the one value that is refused. */
	const at: (string | number)[] = [path];
	const where = () => at.map((segment) => (typeof segment === 'number' ? `[${segment}]` : segment)).join('');
	const visit = (current: unknown): string | undefined => {
		if (--budget < 0) return `${path} holds more than ${MAX_VALUE_NODES} values`;
		if (typeof current !== 'object' || current === null || seen.has(current)) return undefined;
		seen.add(current);
		if (ArrayBuffer.isView(current) || current instanceof ArrayBuffer) return undefined;
		if (Array.isArray(current)) {
			if (current.length > MAX_COLLECTION_SIZE)
				return `${where()} is an array of length ${current.length} (at most ${MAX_COLLECTION_SIZE})`;
			for (let index = 0; index < current.length; index++) {
				at.push(index);
				const problem = visit(current[index]);
				at.pop();
				if (problem) return problem;
			}
			return undefined;
		}
		if (current instanceof Map || current instanceof Set) {
			if (current.size > MAX_COLLECTION_SIZE)
				return `${where()} holds ${current.size} entries (at most ${MAX_COLLECTION_SIZE})`;
			at.push(' (an entry)');
			for (const entry of current instanceof Map ? [...current.keys(), ...current.values()] : current) {
				const problem = visit(entry);
				if (problem) return problem;
			}
			at.pop();
			return undefined;
		}
		for (const key in current) {
			if (!Object.hasOwn(current, key)) continue;
			at.push(`.${key}`);
			const problem = visit((current as Record<string, unknown>)[key]);
			at.pop();
			if (problem) return problem;
		}
		return undefined;
	};
	return visit(value);
}
