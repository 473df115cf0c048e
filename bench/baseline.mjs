// `npm run bench -- --baseline <git revision>`: the package as it was at that revision, built beside this one, so
// the benchmarks that drive the public API (loops on a TaskPool) run it next to the current build in the same
// process, taking turns with it. "Before" and "after" then come from one run on one machine state.
//
// The revision is extracted with `git archive` into bench/.baseline/<commit>/ (not a worktree: nothing is added to
// .git), installed from its own lock file (`npm ci`: an old revision may need packages this one dropped) and built
// with its own tsup configuration. The directory is kept, so a second run with the same revision reuses it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(command, args, options) {
	const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
	if (result.status !== 0) {
		throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status})\n${result.stderr}${result.stdout}`);
	}
	return result.stdout.trim();
}

/**
 * Builds the package at `rev` once and returns where it is.
 * @param {string} rev - Any revision git understands (a commit, a tag, `HEAD~3`).
 * @returns {{ rev: string, commit: string, subject: string, entry: string }} `entry`: the build's ESM entry, as a URL.
 */
export function prepareBaseline(rev) {
	const commit = run('git', ['rev-parse', '--verify', `${rev}^{commit}`], { cwd: root });
	const subject = run('git', ['log', '-1', '--format=%s', commit], { cwd: root });
	const dir = join(root, 'bench', '.baseline', commit);
	const entry = join(dir, 'dist', 'index.js');
	if (!existsSync(entry)) {
		console.log(`building the baseline ${rev} (${commit.slice(0, 7)}) in ${dir}`);
		rmSync(dir, { recursive: true, force: true });
		mkdirSync(dir, { recursive: true });
		const archive = join(dir, 'source.tar');
		run('git', ['archive', '--format=tar', `--output=${archive}`, commit], { cwd: root });
		run('tar', ['-x', '-f', archive, '-C', dir]);
		rmSync(archive);
		run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir });
		// The JavaScript is all the benchmarks load: a failed declaration build (old revisions) does not matter.
		spawnSync(process.execPath, [join(dir, 'node_modules', 'tsup', 'dist', 'cli-default.js')], {
			cwd: dir,
			stdio: 'ignore',
			env: { ...process.env, DISCORD_TASKS_SKIP_DTS: '1' },
		});
		if (!existsSync(entry)) throw new Error(`the baseline ${rev} did not build: ${entry} is missing`);
	}
	return { rev, commit, subject, entry: pathToFileURL(entry).href };
}

/**
 * The baseline build a benchmark process was given (`params.baseline`), or undefined when the run has none.
 * @returns {Promise<{ rev: string, commit: string, lib: typeof import('discord-tasks') } | undefined>}
 */
export async function importBaseline(baseline) {
	if (!baseline) return undefined;
	return { ...baseline, lib: await import(baseline.entry) };
}
