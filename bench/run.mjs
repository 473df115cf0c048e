// Runs the benchmarks, each measurement in fresh child processes, repeated over several process runs, and reports
// every figure next to its anchor measured in the same run, as a ratio.
//
//   npm run bench                 full: writes bench/results.json and BENCHMARKS.md (~10 min)
//   npm run bench -- --quick      fewer samples and runs; writes both files too (< 2 min)
//   npm run bench -- --smoke      every benchmark once with tiny sizes, to prove they complete; writes nothing
//   node bench/run.mjs --render   rewrites BENCHMARKS.md from bench/results.json (after editing bench/findings.md)
//   npm run bench -- --baseline <rev>
//                                 also runs the package as it was at git revision <rev> next to this build, in the
//                                 same processes, where the public API allows (bench/baseline.mjs): before/after
//                                 figures from one run
//
// `npm run bench` builds first (the benchmarks import the built package by name); `node bench/run.mjs` skips that.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { prepareBaseline } from './baseline.mjs';
import { benchmarks } from './suite.mjs';

const mode = process.argv.includes('--smoke') ? 'smoke' : process.argv.includes('--quick') ? 'quick' : 'full';
// `node bench/run.mjs --render` only rewrites BENCHMARKS.md from bench/results.json (after editing findings.md).
const renderOnly = process.argv.includes('--render');
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
// Smoke runs prove that each benchmark completes; its figures mean nothing, so two run at once to save time.
const PARALLEL = mode === 'smoke' ? 2 : 1;
const CHILD_TIMEOUT_MS = 180_000;
const RESULT_PREFIX = 'BENCH-RESULT ';

/** Whether `taskset` (util-linux) is there to pin a process to one CPU. */
function hasTaskset() {
	const probe = spawnSync('taskset', ['-c', '0', process.execPath, '-e', '0']);
	return probe.status === 0;
}

/** Runs one benchmark process and returns the result it reported. */
function runChild(job) {
	const nodeArgs = [...(job.flags ?? []), here(job.file), JSON.stringify(job.params)];
	const [command, args] = job.pin
		? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]]
		: [process.execPath, nodeArgs];
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
		let output = '';
		child.stdout.on('data', (chunk) => {
			output += chunk;
		});
		// A hung benchmark must not hang the run (CI waits on it): stop that one process, by its own pid.
		const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
		child.on('error', reject);
		child.on('exit', (code, signal) => {
			clearTimeout(timer);
			const line = output.split('\n').find((each) => each.startsWith(RESULT_PREFIX));
			if (code !== 0 || !line) {
				reject(new Error(`${job.file} ${JSON.stringify(job.params)} failed (exit ${code ?? signal})\n${output}`));
				return;
			}
			resolve(JSON.parse(line.slice(RESULT_PREFIX.length)));
		});
	});
}

const retries = [];

/**
 * Runs a benchmark process, and once more if it fails: on a shared machine, dist/ can vanish for a moment while
 * something else rebuilds it. A second failure is a real one and ends the run; every retry is reported.
 */
async function runChildWithRetry(job) {
	try {
		return await runChild(job);
	} catch (error) {
		console.warn(`  retrying ${job.bench.id}/${job.config.key} after: ${error.message.split('\n')[0]}`);
		retries.push({ job: `${job.bench.id}/${job.config.key}`, run: job.run, error: error.message.slice(0, 2000) });
		await new Promise((resolve) => setTimeout(resolve, 5000));
		return runChild(job);
	}
}

/**
 * Every job of every benchmark, repetition by repetition: the first run of every benchmark, then the second, and so
 * on, so that each benchmark's runs are spread over the whole session rather than caught in one noisy minute.
 */
function schedule(suite) {
	const jobs = [];
	const most = Math.max(...suite.map((bench) => bench.runs));
	for (let run = 0; run < most; run++) {
		for (const bench of suite) {
			if (run >= bench.runs) continue;
			for (const config of bench.configs) jobs.push({ bench, config, run, file: bench.file, ...config });
		}
	}
	return jobs;
}

async function execute(jobs) {
	const results = new Map();
	let next = 0;
	const worker = async () => {
		while (next < jobs.length) {
			const job = jobs[next++];
			const started = Date.now();
			const result = await runChildWithRetry(job);
			const key = `${job.bench.id}/${job.config.key}`;
			if (!results.has(key)) results.set(key, []);
			results.get(key)[job.run] = result;
			console.log(`  ${key} run ${job.run + 1}/${job.bench.runs} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
		}
	};
	await Promise.all(Array.from({ length: PARALLEL }, worker));
	return results;
}

function packageVersion(name) {
	const path = name === 'discord-tasks' ? here('../package.json') : here(`../node_modules/${name}/package.json`);
	return JSON.parse(readFileSync(path, 'utf8')).version;
}

function machine(loadBefore) {
	const cpus = os.cpus();
	return {
		cpuModel: cpus[0]?.model ?? 'unknown',
		cores: cpus.length,
		memoryBytes: os.totalmem(),
		node: process.version,
		platform: `${os.platform()} ${os.release()}`,
		tasksetAvailable: hasTaskset(),
		packages: Object.fromEntries(
			['discord-tasks', 'piscina', 'toad-scheduler', 'bree', 'croner', 'bullmq', 'ioredis'].map((name) => [
				name,
				packageVersion(name),
			]),
		),
		// Other processes on the machine are noise we cannot remove; the load average at least records it.
		loadAverageBefore: loadBefore,
		loadAverageAfter: os.loadavg(),
	};
}

if (renderOnly) {
	const { renderMarkdown } = await import('./report.mjs');
	const saved = JSON.parse(readFileSync(here('./results.json'), 'utf8'));
	writeFileSync(here('../BENCHMARKS.md'), renderMarkdown(saved, readFileSync(here('./findings.md'), 'utf8')));
	console.log('rewrote BENCHMARKS.md from bench/results.json');
	process.exit(0);
}

const started = Date.now();
const loadBefore = os.loadavg();
const taskset = hasTaskset();
const baselineAt = process.argv.indexOf('--baseline');
if (baselineAt >= 0 && !process.argv[baselineAt + 1]) {
	console.error('--baseline needs a git revision: npm run bench -- --baseline <rev>');
	process.exit(2);
}
const baseline = baselineAt >= 0 ? prepareBaseline(process.argv[baselineAt + 1]) : undefined;
const suite = benchmarks(mode, { taskset, baseline });
console.log(`discord-tasks benchmarks (${mode}), ${suite.length} benchmarks`);
const results = await execute(schedule(suite));
const durationS = (Date.now() - started) / 1000;

const report = {
	mode,
	date: new Date(started).toISOString(),
	durationS,
	machine: machine(loadBefore),
	baseline: baseline && { rev: baseline.rev, commit: baseline.commit, subject: baseline.subject },
	retries,
	benchmarks: {},
};
for (const bench of suite) {
	const runs = Object.fromEntries(
		bench.configs.map((config) => [config.key, results.get(`${bench.id}/${config.key}`)]),
	);
	report.benchmarks[bench.id] = { title: bench.title, method: bench.method, ...bench.analyze(runs), runs };
}

const { renderMarkdown, renderConsole } = await import('./report.mjs');
if (mode === 'smoke') console.log('(smoke sizes: the verdicts below only show that every benchmark ran)');
console.log(renderConsole(report));
if (mode === 'smoke') {
	console.log(`smoke run complete in ${durationS.toFixed(1)} s (nothing written)`);
} else {
	writeFileSync(here('./results.json'), `${JSON.stringify(report, null, '\t')}\n`);
	writeFileSync(here('../BENCHMARKS.md'), renderMarkdown(report, readFileSync(here('./findings.md'), 'utf8')));
	console.log(`wrote bench/results.json and BENCHMARKS.md in ${durationS.toFixed(1)} s`);
}
