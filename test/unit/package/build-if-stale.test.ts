import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { isStale } from '../../../scripts/build-if-stale.mjs';

const roots: string[] = [];
afterEach(() => {
	for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const OUTPUTS = ['index.js', 'index.cjs', 'worker.js', 'worker.cjs', 'testing.js', 'testing.cjs', 'worker-host.js'];

/** A package directory whose sources date from `sourceAt` and whose dist/ outputs from `builtAt` (seconds). */
function fixture(sourceAt: number, builtAt: number | null): string {
	const root = mkdtempSync(join(tmpdir(), 'build-if-stale-'));
	roots.push(root);
	const touch = (path: string, at: number) => {
		writeFileSync(join(root, path), '');
		utimesSync(join(root, path), at, at);
	};
	mkdirSync(join(root, 'src/main'), { recursive: true });
	touch('src/main/loop.ts', sourceAt);
	touch('package.json', sourceAt);
	utimesSync(join(root, 'src/main'), sourceAt, sourceAt);
	utimesSync(join(root, 'src'), sourceAt, sourceAt);
	if (builtAt !== null) {
		mkdirSync(join(root, 'dist'));
		for (const output of OUTPUTS) touch(`dist/${output}`, builtAt);
	}
	return root;
}

describe('scripts/build-if-stale.mjs isStale()', () => {
	test('is false when every output is newer than every source: npm start then skips the build', () => {
		expect(isStale(fixture(1_000, 2_000))).toBe(false);
	});

	test('is true when a source is newer than an output', () => {
		expect(isStale(fixture(3_000, 2_000))).toBe(true);
	});

	test('is true when dist/ or one of its outputs is missing', () => {
		expect(isStale(fixture(1_000, null))).toBe(true);
		const root = fixture(1_000, 2_000);
		rmSync(join(root, 'dist/worker-host.js'));
		expect(isStale(root)).toBe(true);
	});

	test('is true when a source file was deleted after the build (its directory changed)', () => {
		const root = fixture(1_000, 2_000);
		utimesSync(join(root, 'src/main'), 3_000, 3_000);
		expect(isStale(root)).toBe(true);
	});
});
