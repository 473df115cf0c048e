// Benchmark 4: crash recovery. A body kills its worker (process.exit); we time from submitting that run to the
// next run finished on the fresh worker, against bare piscina doing the same (task calls process.exit → rejection
// seen → next run done on the replacement worker). Both pools run one iteration at a time on a kept worker
// (threads = minThreads = 1), so both start the replacement as soon as the old worker is gone; the TaskPool also
// keeps one idle spare (as every TaskPool with minThreads ≥ 1 does), which takes the next run at once.
//
// Subjects take turns, one crash each, in this one process (see dispatch.mjs for why). The main thread's longest
// stall during each recovery comes from monitorEventLoopDelay (1 ms sampling); the same window with nothing
// running gives the noise floor of that figure on this machine.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loop, TaskPool } from 'discord-tasks';
import { Piscina } from 'piscina';
import { importBaseline } from './baseline.mjs';
import { params, report, silentLogger, sleep, task } from './common.mjs';
import { summarize } from './stats.mjs';
import { taskPoolIteration } from './task-pool-iteration.mjs';

const { crashes, settleMs, baseline } = params({ crashes: 15, settleMs: 100 });
const before = await importBaseline(baseline);
const current = { loop, TaskPool };
// Each worker crashes on its third run: two healthy runs first, so every crash hits a warm worker.
const CRASH_AT = 3;
const ELD_RESOLUTION_MS = 1;

const recoveries = new Map();
const rejections = new Map();
const stalls = new Map();
const backoffs = new Map();
const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });

function record(map, name, value) {
	if (!map.has(name)) map.set(name, []);
	map.get(name).push(value);
}

/**
 * Times one crash through `runOnce` (which rejects when the worker dies): runs until one rejects, then the next run.
 * Returns once the run after the crash is done.
 */
async function timeCrash(name, runOnce) {
	for (;;) {
		const start = performance.now();
		eld.reset();
		eld.enable();
		try {
			await runOnce();
			eld.disable();
			continue;
		} catch {
			record(rejections, name, performance.now() - start);
		}
		await runOnce();
		eld.disable();
		record(recoveries, name, performance.now() - start);
		record(stalls, name, eld.max / 1e6 - ELD_RESOLUTION_MS);
		return;
	}
}

function piscinaSubject() {
	const pool = new Piscina({ filename: task('piscina-crash.mjs').href, minThreads: 1, maxThreads: 1 });
	// A worker that dies with a task running rejects that task; without a listener the pool's 'error' would throw.
	pool.on('error', () => {});
	return {
		name: 'piscina',
		crash: () => timeCrash('piscina', () => pool.run({ crashAt: CRASH_AT })),
		close: () => pool.close(),
	};
}

/** TaskPool's per-iteration path, called as WorkerExecutor calls it. */
function taskPoolSubject() {
	const pool = new TaskPool({ threads: 1, minThreads: 1 });
	const runOnce = taskPoolIteration(pool, 'crash.mjs', { loopName: 'crash', args: [CRASH_AT] });

	return { name: 'taskPool', crash: () => timeCrash('taskPool', runOnce), close: () => pool.close() };
}

/**
 * A worker loop with `seconds: 0` and no backoff delay (`random: () => 0` makes every backoff 0 ms): a crash is
 * retried at once on the fresh worker. Timed from the crashing iteration's start to its retry's completion.
 * `lib` is this build or the baseline's (recorded as `name`).
 */
function loopSubject(lib = current, name = 'loop') {
	const pool = new lib.TaskPool({ threads: 1, minThreads: 1 });
	const crashing = lib.loop(
		{ seconds: 0, pool, random: () => 0, logger: silentLogger, name: 'crash' },
		task('crash.mjs'),
	);
	let started = 0;
	let crashStart = -1;
	crashing.on('iterationStarted', ({ retry }) => {
		if (!retry) started = performance.now();
		else record(rejections, name, performance.now() - started);
	});
	crashing.on('iterationFailed', () => {
		crashStart = started;
	});
	crashing.on('iterationCompleted', () => {
		if (crashStart < 0) return;
		eld.disable();
		record(recoveries, name, performance.now() - crashStart);
		record(stalls, name, eld.max / 1e6 - ELD_RESOLUTION_MS);
		crashStart = -1;
		crashing.stop();
	});
	return {
		name,
		// One run per crash (stopped once the retry is done), so the three subjects take turns like the others.
		crash() {
			eld.reset();
			eld.enable();
			return crashing.start(CRASH_AT);
		},
		close: async () => {
			await crashing[Symbol.asyncDispose]();
			await pool.close();
		},
	};
}

/**
 * A worker loop whose retry waits a backoff of about 120 ms (`random: () => 0.06`): the replacement worker starts
 * when the old one dies and imports the task meanwhile, so the retry should cost little more than a warm iteration.
 * Recorded: from the failure to the retry's completion, minus the backoff delay the loop reported.
 */
function loopBackoffSubject(lib = current, name = 'loopBackoff') {
	const pool = new lib.TaskPool({ threads: 1, minThreads: 1 });
	const crashing = lib.loop(
		{ seconds: 0, pool, random: () => 0.06, logger: silentLogger, name: 'crash-backoff' },
		task('crash.mjs'),
	);
	let failedAt = -1;
	let delayMs = 0;
	crashing.on('iterationFailed', () => {
		failedAt = performance.now();
	});
	crashing.on('reconnecting', (info) => {
		delayMs = info.delayMs;
	});
	crashing.on('iterationCompleted', () => {
		if (failedAt < 0) return;
		record(recoveries, name, performance.now() - failedAt - delayMs);
		record(backoffs, name, delayMs);
		failedAt = -1;
		crashing.stop();
	});
	return {
		name,
		crash() {
			return crashing.start(CRASH_AT);
		},
		close: async () => {
			await crashing[Symbol.asyncDispose]();
			await pool.close();
		},
	};
}

/** The noise floor: the longest stall monitorEventLoopDelay reports over a window with nothing running. */
async function idleWindow(ms) {
	eld.reset();
	eld.enable();
	await sleep(ms);
	eld.disable();
	record(stalls, 'idle', eld.max / 1e6 - ELD_RESOLUTION_MS);
}

const subjects = [piscinaSubject(), taskPoolSubject(), loopSubject(), loopBackoffSubject()];
if (before) subjects.push(loopSubject(before.lib, 'loopBefore'), loopBackoffSubject(before.lib, 'loopBackoffBefore'));
for (let i = 0; i < crashes; i++) {
	for (let k = 0; k < subjects.length; k++) {
		await subjects[(i + k) % subjects.length].crash();
		await sleep(settleMs);
	}
	await idleWindow(40);
}
for (const subject of subjects) await subject.close();

const figures = {};
for (const name of ['piscina', 'taskPool', 'loop', ...(before ? ['loopBefore'] : [])]) {
	figures[name] = {
		recovery: summarize(recoveries.get(name)),
		rejection: summarize(rejections.get(name)),
		stall: summarize(stalls.get(name)),
	};
}
// The time past the backoff, and the backoff itself.
for (const name of ['loopBackoff', ...(before ? ['loopBackoffBefore'] : [])]) {
	figures[name] = { recovery: summarize(recoveries.get(name)), backoff: summarize(backoffs.get(name)) };
}
figures.idle = { stall: summarize(stalls.get('idle')) };
report({ unit: 'ms', figures });
