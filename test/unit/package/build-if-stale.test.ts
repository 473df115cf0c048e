import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { isStale, outputs } from '../../../scripts/build-if-stale.mjs';

const roots: string[] = [];
afterEach(() => {
	for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A package.json with two entry points, each for import and require, with declarations. */
const PACKAGE = {
	exports: {
		'.': {
			import: { types: './dist/index.d.ts', default: './dist/index.js' },
			require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
		},
		'./bullmq': {
			import: { types: './dist/bullmq.d.ts', default: './dist/bullmq.js' },
			require: { types: './dist/bullmq.d.cts', default: './dist/bullmq.cjs' },
		},
	},
};
/** What a build without declarations writes for PACKAGE: its entry points and the two hosts. */
const OUTPUTS = ['index.js', 'index.cjs', 'bullmq.js', 'bullmq.cjs', 'worker-host.cjs', 'process-host.cjs'];

/** A package directory whose sources date from `sourceAt` and whose dist/ outputs from `builtAt` (seconds). */
function fixture(sourceAt: number, builtAt: number | null): string {
	const root = mkdtempSync(join(tmpdir(), 'build-if-stale-'));
	roots.push(root);
	const touch = (path: string, at: number, content = '') => {
		writeFileSync(join(root, path), content);
		utimesSync(join(root, path), at, at);
	};
	mkdirSync(join(root, 'src/main'), { recursive: true });
	touch('src/main/loop.ts', sourceAt);
	touch('package.json', sourceAt, JSON.stringify(PACKAGE));
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
		for (const output of OUTPUTS) {
			const root = fixture(1_000, 2_000);
			rmSync(join(root, 'dist', output));
			expect(isStale(root), output).toBe(true);
		}
	});

	test('checks every JavaScript entry point package.json exports and both hosts, not declarations', () => {
		expect(outputs(fixture(1_000, 2_000)).sort()).toEqual([...OUTPUTS].sort());
	});

	test("this package's outputs are the files its build writes, so an unchanged tree is not rebuilt", () => {
		const root = fileURLToPath(new URL('../../..', import.meta.url));
		const built = outputs(root);
		expect(built).toEqual(expect.arrayContaining(['index.js', 'bullmq.js', 'worker-host.cjs', 'process-host.cjs']));
		const config = readFileSync(join(root, 'tsup.config.ts'), 'utf8');
		// Each output is an entry of tsup.config.ts: `name: 'src/...'` or `'name': 'src/...'`.
		for (const file of built) {
			const name = file.replace(/\.c?js$/, '');
			expect(config, file).toMatch(new RegExp(`[\\s{]'?${name}'?: 'src/`));
		}
	});

	test('is true when a source file was deleted after the build (its directory changed)', () => {
		const root = fixture(1_000, 2_000);
		utimesSync(join(root, 'src/main'), 3_000, 3_000);
		expect(isStale(root)).toBe(true);
	});
});
