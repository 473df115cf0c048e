// Benchmark 9: 100,000 per-guild loops of 10 s on the main thread. How long starting them takes, the longest stall
// of the event loop meanwhile, how late their firings are, and how long cancelling them all takes. One subject and
// phase per process: discord-tasks loops (empty body), or the hand-written drift-corrected setTimeout loop for
// reference. Random phase: each loop is started at a random point of its first interval (guilds arriving over
// time); aligned: all are started in one synchronous loop, so their grids fall within the time that loop
// and their first iterations take. (Heap per loop at this size is measured by memory.mjs, without the listeners this
// benchmark adds.)
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loop } from 'discord-tasks';
import { calibratedWallClock, params, report, silentLogger, sleep, startHandLoop } from './common.mjs';
import { summarize } from './stats.mjs';

const { subject, phase, loops, intervalMs, durationMs } = params({
	subject: 'discord-tasks',
	phase: 'random',
	loops: 100_000,
	intervalMs: 10_000,
	durationMs: 12_000,
});
const clock = calibratedWallClock();
// Firings a loop can have: during the start window (one interval), then during the measured duration.
const perLoop = Math.ceil((durationMs + intervalMs) / intervalMs) + 2;
const lateness = new Float64Array(loops * perLoop).fill(Number.NaN);
const firings = new Uint32Array(loops);
let firstFirings = 0;
let allFirstAt = Number.NaN;
let early = 0;
let recording = true;
let startedAt = 0;
/** Time spent inside the start calls themselves (the caller's cost of starting a loop). */
let startCallsMs = 0;

/** Calls `start(index)` for every loop: at once, or each at a random point of the start window. */
function startEach(start) {
	startedAt = performance.now();
	const timed = (index) => {
		const from = performance.now();
		start(index);
		startCallsMs += performance.now() - from;
	};
	for (let i = 0; i < loops; i++) {
		if (phase === 'aligned') timed(i);
		else setTimeout(timed, Math.random() * intervalMs, i);
	}
}

function record(index, late) {
	const k = firings[index]++;
	if (k === 0 && ++firstFirings === loops) allFirstAt = performance.now();
	if (recording && k < perLoop) lateness[index * perLoop + k] = late;
}

function startDiscordTasks() {
	const all = [];
	// Targets are read once, in the first body (the loop's grid is fixed from then on: `nextIteration` − one
	// interval); the body then compares each firing with its own grid point. No listener per loop: a Map, a Set and
	// a closure per loop would be most of the heap this benchmark measures under, and a Date per firing its garbage.
	const firstTarget = new Float64Array(loops);
	for (let i = 0; i < loops; i++) {
		const each = loop({ seconds: intervalMs / 1000, logger: silentLogger, name: `guild-${i}` }, () => {
			if (firings[i] === 0) firstTarget[i] = (each.nextIteration?.getTime() ?? Number.NaN) - intervalMs;
			const target = firstTarget[i] + firings[i] * intervalMs;
			if (Date.now() < target) early += 1;
			record(i, clock.now() - target);
		});
		all.push(each);
	}
	startEach((index) => void all[index].start());
	return async () => {
		for (const each of all) each.cancel();
		await Promise.all(all.map((each) => each[Symbol.asyncDispose]()));
	};
}

function startSetTimeout() {
	const timers = new Array(loops);
	startEach((i) => {
		const onFire = (late) => record(i, late);
		startHandLoop(clock, { firstTarget: clock.now(), intervalMs, timers, index: i, onFire });
	});
	return async () => {
		for (const timer of timers) clearTimeout(timer);
	};
}

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const stop = subject === 'discord-tasks' ? startDiscordTasks() : startSetTimeout();
while (firstFirings < loops) await sleep(10);
const startAllMs = allFirstAt - startedAt;
const startStallMs = delay.max / 1e6 - 1;
delay.reset();
await sleep(durationMs);
recording = false;
const steadyStallMs = delay.max / 1e6 - 1;
delay.disable();
const cancelFrom = performance.now();
await stop();
const cancelMs = performance.now() - cancelFrom;

// Every firing but each loop's first (that one runs at once when the loop starts).
const all = [];
for (let i = 0; i < loops; i++) {
	const kept = Math.min(firings[i], perLoop);
	for (let k = 1; k < kept; k++) {
		const value = lateness[i * perLoop + k];
		if (!Number.isNaN(value)) all.push(value);
	}
}
report({
	unit: 'ms',
	subject,
	phase,
	loops,
	startCallsMs,
	startAllMs,
	startStallMs,
	steadyStallMs,
	cancelMs,
	lateness: summarize(all),
	early,
	heapUsedBytes: process.memoryUsage().heapUsed,
});
