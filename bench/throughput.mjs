// Benchmark 7: tiny iterations per second through a 2-thread pool, with the same number of calls in flight for
// every subject: discord-tasks loops with `seconds: 0` (one iteration in flight each), TaskPool's per-iteration
// path driven directly, and bare piscina (default settings, and with TaskPool's atomics: 'disabled').
// The subjects take turns in short slices inside this one process (see dispatch.mjs for why).
import { performance } from 'node:perf_hooks';
import { loop, TaskPool } from 'discord-tasks';
import { Piscina } from 'piscina';
import { importBaseline } from './baseline.mjs';
import { params, report, silentLogger, task } from './common.mjs';
import { summarize } from './stats.mjs';
import { taskPoolIteration } from './task-pool-iteration.mjs';

const { inFlight, sliceMs, rounds, warmupRounds, baseline } = params({
	inFlight: 8,
	sliceMs: 500,
	rounds: 6,
	warmupRounds: 1,
});
const before = await importBaseline(baseline);
const rates = new Map();

/** Keeps `inFlight` calls of `call` going until the slice ends; returns calls completed per second. */
async function saturate(call) {
	let completed = 0;
	const end = performance.now() + sliceMs;
	const lane = async () => {
		while (performance.now() < end) {
			await call();
			completed += 1;
		}
	};
	const start = performance.now();
	await Promise.all(Array.from({ length: inFlight }, lane));
	return completed / ((performance.now() - start) / 1000);
}

function piscinaSubject(name, options) {
	const pool = new Piscina({ filename: task('piscina-noop.mjs').href, minThreads: 2, maxThreads: 2, ...options });
	return { name, slice: () => saturate(() => pool.run(null)), close: () => pool.close() };
}

function taskPoolSubject(pool) {
	const call = taskPoolIteration(pool, 'noop.mjs', { loopName: 'tp' });

	return { name: 'taskPool', slice: () => saturate(call), close: () => {} };
}

/**
 * `inFlight` worker loops with `seconds: 0`, run for one slice and stopped; counts completed iterations. `lib` is
 * this build or the baseline's (recorded as `name`).
 */
function loopSubject(lib, pool, name = 'loops') {
	const loops = Array.from({ length: inFlight }, (_, i) =>
		lib.loop({ seconds: 0, pool, logger: silentLogger, name: `tp-${i}` }, task('noop.mjs')),
	);
	let completed = 0;
	for (const each of loops) each.on('iterationCompleted', () => completed++);
	return {
		name,
		async slice() {
			completed = 0;
			const start = performance.now();
			const runs = loops.map((each) => each.start());
			await new Promise((resolve) => setTimeout(resolve, sliceMs));
			for (const each of loops) each.stop();
			await Promise.all(runs);
			return completed / ((performance.now() - start) / 1000);
		},
		close: () => {},
	};
}

const pool = new TaskPool({ threads: 2, minThreads: 2 });
const subjects = [
	piscinaSubject('piscina', {}),
	piscinaSubject('piscinaAtomicsDisabled', { atomics: 'disabled' }),
	taskPoolSubject(pool),
	loopSubject({ loop }, pool),
];
const beforePool = before && new before.lib.TaskPool({ threads: 2, minThreads: 2 });
if (before) subjects.push(loopSubject(before.lib, beforePool, 'loopsBefore'));
for (let round = 0; round < warmupRounds + rounds; round++) {
	for (let k = 0; k < subjects.length; k++) {
		const subject = subjects[(round + k) % subjects.length];
		const rate = await subject.slice();
		if (round < warmupRounds) continue;
		if (!rates.has(subject.name)) rates.set(subject.name, []);
		rates.get(subject.name).push(rate);
	}
}
for (const subject of subjects) await subject.close();
await pool.close();
await beforePool?.close();

const figures = {};
for (const [name, list] of rates) figures[name] = summarize(list);
report({ unit: 'calls/s', inFlight, figures });
