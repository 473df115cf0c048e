// Benchmark 3: how late each firing of many concurrent 100 ms loops on the main thread is, against its target.
// One subject and one configuration per process: discord-tasks loops (empty body), toad-scheduler
// SimpleIntervalJob, or a plain drift-corrected setTimeout loop that re-arms when woken early.
//
// Lateness = when the firing was observed − its target, on a sub-millisecond wall clock calibrated against
// Date.now() (discord-tasks targets are Date.now() milliseconds). The first firing of every loop is left out: for
// discord-tasks it is the immediate first iteration, not a scheduled one.
import { loop } from 'discord-tasks';
import { SimpleIntervalJob, Task, ToadScheduler } from 'toad-scheduler';
import { calibratedWallClock, params, report, silentLogger, sleep, startHandLoop } from './common.mjs';
import { summarize } from './stats.mjs';

const { subject, loops, phase, durationMs, intervalMs } = params({
	subject: 'discord-tasks',
	loops: 1000,
	phase: 'random',
	durationMs: 5000,
	intervalMs: 100,
});
const clock = calibratedWallClock();
// The calibrated clock agrees with Date.now() to a few µs (clockDriftMs, reported below, measures how far the two
// moved apart during the run): a firing counts as early only when it is more than that before its target.
const EARLY_TOLERANCE_MS = 0.01;
const perLoop = Math.ceil(durationMs / intervalMs) + 3;
// Preallocated per loop and firing: recording must not allocate, or the benchmark would measure its own GC.
const lateness = new Float64Array(loops * perLoop).fill(Number.NaN);
const firings = new Uint32Array(loops);
let earlyByDateNow = 0;
// Targets a discord-tasks loop skipped (a gap in its grid of targets): every due firing must be delivered.
let missed = 0;
const lastTarget = new Float64Array(loops);
let recording = true;

function record(index, late) {
	const k = firings[index]++;
	if (recording && k < perLoop) lateness[index * perLoop + k] = late;
}

/** When loop `index` starts: all at once, or spread over one interval. */
const startDelay = () => (phase === 'aligned' ? 0 : Math.random() * intervalMs);

function startDiscordTasks() {
	const all = [];
	for (let i = 0; i < loops; i++) {
		const each = loop({ seconds: intervalMs / 1000, logger: silentLogger, name: `l${i}` }, () => {});
		each.on('iterationStarted', ({ target }) => {
			const at = target.getTime();
			// The contract is "never before the target on Date.now()", the clock the loop schedules with.
			if (Date.now() < at) earlyByDateNow += 1;
			record(i, clock.now() - at);
			const previous = lastTarget[i];
			if (recording && previous > 0 && at - previous > intervalMs)
				missed += Math.round((at - previous) / intervalMs) - 1;
			lastTarget[i] = at;
		});
		all.push(each);
	}
	const start = (each) => void each.start();
	if (phase === 'aligned') all.forEach(start);
	else for (const each of all) setTimeout(start, startDelay(), each);
	return () => Promise.all(all.map((each) => each[Symbol.asyncDispose]()));
}

function startToad() {
	const scheduler = new ToadScheduler();
	for (let i = 0; i < loops; i++) {
		setTimeout(() => {
			// setInterval's grid: start + k × interval. Node re-arms an interval from when its callback ran, so any
			// delay carries over to every later firing; measuring against the grid shows that drift.
			const origin = clock.now();
			const task = new Task(`t${i}`, () => record(i, clock.now() - (origin + (firings[i] + 1) * intervalMs)));
			scheduler.addSimpleIntervalJob(new SimpleIntervalJob({ milliseconds: intervalMs }, task));
		}, startDelay());
	}
	return async () => scheduler.stop();
}

/** The hand-written reference: a drift-corrected setTimeout loop that never fires before its target. */
function startSetTimeout() {
	const timers = new Array(loops);
	for (let i = 0; i < loops; i++) {
		setTimeout(() => {
			const onFire = (late) => record(i, late);
			startHandLoop(clock, { firstTarget: clock.now() + intervalMs, intervalMs, timers, index: i, onFire });
		}, startDelay());
	}
	return async () => {
		for (const timer of timers) clearTimeout(timer);
	};
}

const starters = { 'discord-tasks': startDiscordTasks, toad: startToad, setTimeout: startSetTimeout };
const stop = starters[subject]();
await sleep(durationMs);
recording = false;
await stop();

// Every firing but each loop's first; the steady state leaves out the first second too (with thousands of loops,
// the start-up of the others delays the first few firings). Drift: the last 5 firings of each loop against 5
// firings of the steady state's beginning.
const steadyFrom = Math.min(Math.round(1000 / intervalMs), Math.floor(perLoop / 3));
const all = [];
const steady = [];
const first = [];
const last = [];
let early = 0;
for (let i = 0; i < loops; i++) {
	const kept = Math.min(firings[i], perLoop);
	for (let k = 1; k < kept; k++) {
		const value = lateness[i * perLoop + k];
		if (Number.isNaN(value)) continue;
		all.push(value);
		if (value < -EARLY_TOLERANCE_MS) early += 1;
		if (k >= steadyFrom) steady.push(value);
		if (k >= steadyFrom && k < steadyFrom + 5) first.push(value);
		if (k >= kept - 5 && k >= steadyFrom) last.push(value);
	}
}
report({
	unit: 'ms',
	subject,
	loops,
	phase,
	lateness: summarize(all),
	steady: summarize(steady),
	early,
	earlyByDateNow: subject === 'discord-tasks' ? earlyByDateNow : null,
	missed: subject === 'discord-tasks' ? missed : null,
	firstP50: summarize(first).p50,
	lastP50: summarize(last).p50,
	driftMs: summarize(last).p50 - summarize(first).p50,
	clockDriftMs: clock.drift(),
});
