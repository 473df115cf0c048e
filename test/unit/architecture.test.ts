import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

// The boundary rules of the main ↔ worker design, checked on the import statements of src/.
const src = fileURLToPath(new URL('../../src', import.meta.url));

function filesUnder(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
		entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
	);
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function importsOf(file: string): string[] {
	const text = readFileSync(file, 'utf8');
	const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)];
	return specifiers.map((match) => match[1] as string);
}

function violations(area: string, forbidden: (specifier: string) => boolean): string[] {
	return filesUnder(join(src, area)).flatMap((file) =>
		importsOf(file)
			.filter(forbidden)
			.map((specifier) => `${relative(src, file)} imports ${specifier}`),
	);
}

describe('source boundaries', () => {
	test('src/protocol imports nothing from main/, worker/ or testing/', () => {
		expect(violations('protocol', (s) => /^\.\.\/(main|worker|testing)\//.test(s))).toEqual([]);
	});

	test('src/worker never imports src/main or discord.js', () => {
		expect(violations('worker', (s) => /^\.\.\/main\//.test(s) || s === 'discord.js')).toEqual([]);
	});

	test('src/main reaches the worker side only through src/protocol', () => {
		expect(violations('main', (s) => /^\.\.\/worker\//.test(s))).toEqual([]);
	});

	test('the checks see real imports (a file that imports the protocol is found)', () => {
		expect(importsOf(join(src, 'main', 'loop.ts'))).toContain('../protocol/index.js');
	});
});
