import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The files `npm pack` puts in the tarball, relative to the package root (without building: scripts are off). */
let packed: ReadonlySet<string>;
beforeAll(async () => {
	const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
	const [report] = JSON.parse(stdout) as [{ files: { path: string }[] }];
	packed = new Set(report.files.map((file) => file.path));
}, 30_000);

/** The relative link targets of a Markdown file (no URLs, no in-page anchors), resolved from the package root. */
function relativeLinks(document: string): string[] {
	const text = readFileSync(`${root}${document}`, 'utf8');
	return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
		.map((match) => match[1] ?? '')
		.filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
		.map((target) => posix.normalize(posix.join(posix.dirname(document), target.split('#')[0] ?? '')));
}

describe('the npm package', () => {
	test.each([['README.md'], ['docs/testing.md'], ['docs/errors.md'], ['docs/discordpy-parity.md'], ['BENCHMARKS.md']])(
		'ships every file %s links to, so its links work in node_modules and on the registry page',
		(document) => {
			expect(packed.has(document)).toBe(true);
			const missing = relativeLinks(document).filter((target) => !packed.has(target));
			expect(missing).toEqual([]);
		},
	);

	test('README links into docs/ and examples/ (the check above has something to check)', () => {
		expect(relativeLinks('README.md')).toEqual(expect.arrayContaining(['docs/errors.md', 'examples/demo-bot.mjs']));
	});

	test('ships the LICENSE that package.json names', () => {
		const { license } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { license: string };
		expect(packed.has('LICENSE')).toBe(true);
		expect(readFileSync(`${root}LICENSE`, 'utf8')).toMatch(new RegExp(`^${license} License\\n`));
	});

	test('ships no tests, sources or tool configuration', () => {
		const unexpected = [...packed].filter(
			(file) => /^(test|src|bench|\.ci)\//.test(file) || (file.endsWith('.ts') && !file.startsWith('dist/')),
		);
		expect(unexpected).toEqual([]);
	});
});
