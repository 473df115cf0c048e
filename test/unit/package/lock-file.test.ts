import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

interface LockEntry {
	readonly optionalDependencies?: Readonly<Record<string, string>>;
}

const lock = JSON.parse(readFileSync(new URL('../../../package-lock.json', import.meta.url), 'utf8')) as {
	readonly packages: Readonly<Record<string, LockEntry>>;
};

/** Where npm looks for `name` from the package at `path`: its own node_modules, then each parent's. */
function isLocked(path: string, name: string): boolean {
	for (let dir = path; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
		if (lock.packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
		if (dir === '') return false;
	}
}

// npm 11 writes every platform's optional native package (biome's, rollup's, esbuild's) into the lock file. A lock
// without them is rewritten by the first `npm install` of a fresh clone, and refused by `npm ci`.
test("the lock file lists every optional dependency, other platforms' native packages included", () => {
	const missing = Object.entries(lock.packages).flatMap(([path, entry]) =>
		Object.keys(entry.optionalDependencies ?? {})
			.filter((name) => !isLocked(path, name))
			.map((name) => `${path || '(root)'} -> ${name}`),
	);
	expect(missing).toEqual([]);
	expect(lock.packages['node_modules/@biomejs/cli-darwin-arm64']).toBeDefined();
});
