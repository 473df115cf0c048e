// Benchmark 1: dispatch per worker iteration with a no-op body, against a raw worker round trip and bare piscina.
//
// Every subject makes sequential calls (one in flight), on one worker each. The subjects take turns in batches
// (A, B, C, ... then the next round starts one subject later) inside this one process: run-to-run noise on a
// 2-vCPU machine is larger than the differences we look for (whether the main thread and a worker land on the same
// vCPU moves a round trip by ~60 µs), and alternating exposes every subject to the same conditions. bench/run.mjs
// runs this file both unpinned and under `taskset -c 0` (all threads on one CPU), so pinned compares to pinned.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { loop, TaskPool } from 'discord-tasks';
import { Piscina } from 'piscina';
import { importBaseline } from './baseline.mjs';
import { params, report, silentLogger, task } from './common.mjs';
import { summarize } from './stats.mjs';
import { taskPoolIteration } from './task-pool-iteration.mjs';

const { rounds, batch, warmupRounds, baseline } = params({ rounds: 30, batch: 200, warmupRounds: 3 });
const before = await importBaseline(baseline);

/** Per-call samples (µs) of every figure, recorded after the warm-up rounds. */
const samples = new Map();
function record(figure, micros) {
	if (!samples.has(figure)) samples.set(figure, []);
	samples.get(figure).push(micros);
}

async function rawSubject() {
	const worker = new Worker(task('raw-echo.mjs'));
	let resolve;
	worker.on('message', (message) => resolve(message));
	const roundTrip = (value) =>
		new Promise((r) => {
			resolve = r;
			worker.postMessage(value);
		});
	await roundTrip(0);
	return {
		name: 'raw',
		batch: sequential('raw', roundTrip),
		close: () => worker.terminate(),
	};
}

async function piscinaSubject(name, options) {
	const pool = new Piscina({ filename: task('piscina-noop.mjs').href, minThreads: 1, maxThreads: 1, ...options });
	await pool.run(null);
	return {
		name,
		batch: sequential(name, () => pool.run(null)),
		close: () => pool.close(),
	};
}

/** A batch of `n` calls made one after another, each timed (µs) into `label` when `keep` is set. */
function sequential(label, call) {
	return async (n, keep) => {
		for (let i = 0; i < n; i++) {
			const start = performance.now();
			await call(i);
			if (keep) record(label, (performance.now() - start) * 1000);
		}
	};
}

/** TaskPool's per-iteration path, called the way WorkerExecutor calls it for one iteration of a loop. */
function taskPoolSubject(pool) {
	const runOne = taskPoolIteration(pool, 'noop.mjs');
	return {
		name: 'taskPool',
		batch: sequential('taskPool', runOne),
		close: () => {},
	};
}

/**
 * A worker loop with `seconds: 0`: one run of `count: n` per batch. Three figures: iterationStarted →
 * iterationCompleted (the executor's path), iterationStarted → the next iterationStarted (one whole cycle,
 * the loop's own scheduling included), and the run's duration / n. `lib` is this build or the baseline's, whose
 * figures get `suffix`.
 */
function loopSubject(lib, pool, suffix = '') {
	const worker = lib.loop({ seconds: 0, pool, logger: silentLogger, name: 'dispatch' }, task('noop.mjs'));
	let keep = false;
	let started = 0;
	let previousStart = -1;
	worker.on('iterationStarted', () => {
		const now = performance.now();
		if (keep && previousStart >= 0) record(`loopCycle${suffix}`, (now - previousStart) * 1000);
		previousStart = now;
		started = now;
	});
	worker.on('iterationCompleted', () => {
		if (keep) record(`loopIteration${suffix}`, (performance.now() - started) * 1000);
	});
	return {
		name: `loop${suffix}`,
		async batch(n, keepSamples) {
			keep = keepSamples;
			previousStart = -1;
			worker.count = n;
			const start = performance.now();
			await worker.start();
			if (keep) record(`loopRunPerIteration${suffix}`, ((performance.now() - start) * 1000) / n);
		},
		close: () => worker[Symbol.asyncDispose](),
	};
}

const pool = new TaskPool({ threads: 1, minThreads: 1 });
const subjects = [
	await rawSubject(),
	await piscinaSubject('piscina', {}),
	// TaskPool runs piscina with atomics disabled (its workers need a live event loop for their host channels):
	// the same setting without discord-tasks separates the cost of that choice from the cost of our layer.
	await piscinaSubject('piscinaAtomicsDisabled', { atomics: 'disabled' }),
	taskPoolSubject(pool),
	loopSubject({ loop }, pool),
];
// The baseline's loop on a pool of its own build, taking turns with the rest.
const beforePool = before && new before.lib.TaskPool({ threads: 1, minThreads: 1 });
if (before) subjects.push(loopSubject(before.lib, beforePool, 'Before'));

for (let round = 0; round < warmupRounds + rounds; round++) {
	const keep = round >= warmupRounds;
	for (let k = 0; k < subjects.length; k++) {
		await subjects[(round + k) % subjects.length].batch(batch, keep);
	}
}
for (const subject of subjects) await subject.close();
await pool.close();
await beforePool?.close();

const figures = {};
for (const [figure, list] of samples) figures[figure] = summarize(list);
report({ unit: 'µs', figures });
