// `npm start` and `npm run bench` need the built JavaScript, not the type declarations, and most runs follow no
// change at all. This builds dist/ only when a source is newer than it, and then without declarations (the slow
// part of the build: ~80% of it). `npm run build` (and so `npm test`, `npm pack`) always builds everything.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The hosts a pool starts its workers and task processes with: built, but not named by package.json's exports. */
const HOSTS = ['worker-host.cjs', 'process-host.cjs'];
/** Besides src/, what changes the build. */
const INPUTS = ['package.json', 'package-lock.json', 'tsup.config.ts', 'tsconfig.json'];

/** The newest modification time under `dir`, in ms; a directory's own counts (a deleted file changes it). */
function newest(dir) {
	let latest = statSync(dir).mtimeMs;
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const path = join(dir, entry.name);
		latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
	}
	return latest;
}

/**
 * What a build without declarations writes to dist/ under `root`: every JavaScript file package.json's exports
 * name (so a new entry point is checked without editing this list), and the worker and process hosts.
 * @param {string} root - The package directory.
 * @returns {string[]} Paths relative to dist/.
 */
export function outputs(root) {
	const files = new Set(HOSTS);
	const collect = (target) => {
		if (typeof target === 'string') {
			if (target.startsWith('./dist/') && !/\.d\.c?ts$/.test(target)) files.add(target.slice('./dist/'.length));
		} else if (target && typeof target === 'object') {
			for (const each of Object.values(target)) collect(each);
		}
	};
	collect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports);
	return [...files];
}

/**
 * Whether dist/ under `root` is missing an output or older than a source.
 * @param {string} root - The package directory.
 * @returns {boolean}
 */
export function isStale(root) {
	let oldestOutput;
	try {
		oldestOutput = Math.min(...outputs(root).map((name) => statSync(join(root, 'dist', name)).mtimeMs));
	} catch {
		return true;
	}
	const inputs = INPUTS.map((name) => join(root, name)).filter((path) => statSync(path, { throwIfNoEntry: false }));
	return Math.max(newest(join(root, 'src')), ...inputs.map((path) => statSync(path).mtimeMs)) > oldestOutput;
}

function main() {
	const root = fileURLToPath(new URL('..', import.meta.url));
	if (!isStale(root)) {
		console.log('dist/ is up to date with src/: not rebuilding (npm run build rebuilds everything)');
		return;
	}
	// tsup's own CLI file, run by this node: no shell and no PATH lookup, on every platform.
	const tsup = createRequire(import.meta.url).resolve('tsup/package.json');
	const cli = join(dirname(tsup), JSON.parse(readFileSync(tsup, 'utf8')).bin.tsup);
	const result = spawnSync(process.execPath, [cli], {
		cwd: root,
		stdio: 'inherit',
		env: { ...process.env, DISCORD_TASKS_SKIP_DTS: '1' },
	});
	process.exitCode = result.status ?? 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
