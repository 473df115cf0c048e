// Benchmark 6: memory. Run with --expose-gc; one measurement per process, so nothing a previous subject left in
// the heap (or in freed-but-kept RSS) is counted against the next.
// - heap: heapUsed per idle started loop (1 h interval), against toad-scheduler, croner and a setTimeout loop;
// - rss: RSS of an idle TaskPool with 2 threads (minThreads: 2), against an idle bare piscina pool;
// - growth: heapUsed after 1,000 iterations and after 100,000, for a main-thread loop and a worker loop.
import { performance } from 'node:perf_hooks';
import { Cron } from 'croner';
import { loop, TaskPool } from 'discord-tasks';
import { Piscina } from 'piscina';
import { SimpleIntervalJob, Task, ToadScheduler } from 'toad-scheduler';
import { params, report, silentLogger, sleep } from './common.mjs';

const { mode, subject, loops, iterations, checkpoint, settleMs } = params({
	mode: 'heap',
	subject: 'discord-tasks',
	loops: 10_000,
	iterations: 100_000,
	checkpoint: 1_000,
	settleMs: 1_000,
});
const HOUR_MS = 3_600_000;
if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');

/** Full collections until heapUsed stops shrinking: one gc() can leave garbage that a finalizer freed. */
function settledHeap() {
	let previous = Number.POSITIVE_INFINITY;
	for (let i = 0; i < 5; i++) {
		globalThis.gc();
		const used = process.memoryUsage().heapUsed;
		if (used >= previous) return used;
		previous = used;
	}
	return previous;
}

const idleStarters = {
	'discord-tasks'(n) {
		const all = [];
		for (let i = 0; i < n; i++) {
			const each = loop({ hours: 1, logger: silentLogger, name: `idle-${i}` }, () => {});
			void each.start();
			all.push(each);
		}
		return () => Promise.all(all.map((each) => each[Symbol.asyncDispose]()));
	},
	toad(n) {
		const scheduler = new ToadScheduler();
		for (let i = 0; i < n; i++) {
			scheduler.addSimpleIntervalJob(new SimpleIntervalJob({ hours: 1 }, new Task(`idle-${i}`, () => {})));
		}
		return () => scheduler.stop();
	},
	croner(n) {
		const all = [];
		for (let i = 0; i < n; i++) all.push(new Cron('0 0 * * * *', () => {}));
		return () => {
			for (const job of all) job.stop();
		};
	},
	setTimeout(n) {
		const timers = new Array(n);
		for (let i = 0; i < n; i++) {
			let target = Date.now() + HOUR_MS;
			const tick = () => {
				target += HOUR_MS;
				timers[i] = setTimeout(tick, target - Date.now());
			};
			timers[i] = setTimeout(tick, HOUR_MS);
		}
		return () => {
			for (const timer of timers) clearTimeout(timer);
		};
	},
};

async function heapPerLoop() {
	const before = settledHeap();
	const stop = idleStarters[subject](loops);
	// discord-tasks loops run their first iteration at once, then sleep for the hour: wait until they all do.
	await sleep(settleMs);
	const after = settledHeap();
	await stop();
	return { bytesPerLoop: (after - before) / loops, heapDeltaBytes: after - before };
}

/** RSS after an idle pool's two workers are up and have settled, minus RSS before (everything imported already). */
async function idlePoolRss() {
	globalThis.gc();
	await sleep(200);
	const before = process.memoryUsage().rss;
	let pool;
	if (subject === 'taskPool') {
		pool = new TaskPool({ threads: 2, minThreads: 2 });
		while (pool.threads < 2) await sleep(10);
	} else {
		pool = new Piscina({
			filename: new URL('./tasks/piscina-noop.mjs', import.meta.url).href,
			minThreads: 2,
			maxThreads: 2,
		});
		while (pool.threads.length < 2) await sleep(10);
	}
	// Workers are listed as soon as they are created; give them time to boot and load their modules.
	await sleep(settleMs);
	globalThis.gc();
	await sleep(100);
	const after = process.memoryUsage().rss;
	await pool.close();
	return { rssDeltaBytes: after - before };
}

/** heapUsed (after gc) at the checkpoint iteration and at the last one, from inside iterationCompleted. */
async function growth() {
	const pool = subject === 'worker' ? new TaskPool({ threads: 1, minThreads: 1 }) : undefined;
	const options = { seconds: 0, count: iterations, logger: silentLogger, name: 'growth' };
	const looping = pool
		? loop({ ...options, pool }, new URL('./tasks/noop.mjs', import.meta.url))
		: loop(options, () => {});
	const heap = {};
	const start = performance.now();
	looping.on('iterationCompleted', ({ iteration }) => {
		if (iteration + 1 === checkpoint || iteration + 1 === iterations) heap[iteration + 1] = settledHeap();
	});
	await looping.start();
	const elapsedMs = performance.now() - start;
	await pool?.close();
	const atCheckpoint = heap[checkpoint];
	const atEnd = heap[iterations];
	return {
		atCheckpointBytes: atCheckpoint,
		atEndBytes: atEnd,
		growthBytes: atEnd - atCheckpoint,
		bytesPerIteration: (atEnd - atCheckpoint) / (iterations - checkpoint),
		iterationsPerSecond: iterations / (elapsedMs / 1000),
	};
}

const modes = { heap: heapPerLoop, rss: idlePoolRss, growth };
report({ mode, subject, ...(await modes[mode]()) });
