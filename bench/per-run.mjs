// Benchmark 5: what one run of a no-op job costs, against bree, which starts a new Worker for every run.
// discord-tasks runs each iteration on a pooled worker, so the figures are:
// - warm: one iteration of a `seconds: 0` worker loop on a pool whose worker is up (what a scheduled run costs);
// - loop start: `start()` → resolved of a `count: 1` worker loop on that pool (a one-shot run, the loop's
//   start-up and wind-down included);
// - cold: a new TaskPool, one iteration, close (a run that pays for its own worker, as bree's do).
// The subjects take turns, one run each, in this one process.
import { performance } from 'node:perf_hooks';
import Bree from 'bree';
import { loop, TaskPool } from 'discord-tasks';
import { params, report, silentLogger, sleep } from './common.mjs';
import { summarize } from './stats.mjs';

const { runs } = params({ runs: 20 });
const task = new URL('./tasks/noop.mjs', import.meta.url);
const samples = { bree: [], warm: [], loopStart: [], cold: [] };

const bree = new Bree({
	root: false,
	logger: false,
	jobs: [{ name: 'noop', path: new URL('./tasks/bree-noop.mjs', import.meta.url).pathname }],
});
await bree.init();

/** bree.run() → 'worker deleted' (the job's worker has exited): one whole bree run. */
async function breeRun() {
	const start = performance.now();
	const deleted = new Promise((resolve) => bree.once('worker deleted', resolve));
	await bree.run('noop');
	await deleted;
	samples.bree.push(performance.now() - start);
}

const pool = new TaskPool({ threads: 1, minThreads: 1 });
const warmLoop = loop({ seconds: 0, count: 1, pool, logger: silentLogger, name: 'warm' }, task);
await warmLoop.start();

/** One iteration of a running `seconds: 0` worker loop: iterationStarted → iterationCompleted. */
async function warmRun() {
	const iterations = loop({ seconds: 0, count: 4, pool, logger: silentLogger, name: 'iterations' }, task);
	let started = 0;
	iterations.on('iterationStarted', () => {
		started = performance.now();
	});
	iterations.on('iterationCompleted', ({ iteration }) => {
		if (iteration > 0) samples.warm.push(performance.now() - started);
	});
	await iterations.start();
}

async function loopStartRun() {
	const start = performance.now();
	await warmLoop.start();
	samples.loopStart.push(performance.now() - start);
}

async function coldRun() {
	const start = performance.now();
	const own = new TaskPool({ threads: 1 });
	await loop({ count: 1, pool: own, logger: silentLogger, name: 'cold' }, task).start();
	samples.cold.push(performance.now() - start);
	await own.close();
}

const subjects = [breeRun, warmRun, loopStartRun, coldRun];
for (let i = 0; i < runs; i++) {
	for (let k = 0; k < subjects.length; k++) {
		await subjects[(i + k) % subjects.length]();
		// Let exiting workers finish tearing down before the next subject is timed.
		await sleep(20);
	}
}
await pool.close();
await bree.stop();

const figures = {};
for (const [name, list] of Object.entries(samples)) figures[name] = summarize(list);
report({ unit: 'ms', figures });
