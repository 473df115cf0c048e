// What every benchmark process needs: its parameters from bench/run.mjs, a way to hand its figures back, and clocks.
import { performance } from 'node:perf_hooks';

/** The parameters bench/run.mjs passed as JSON in argv[2] (a benchmark can also be run by hand with none). */
export function params(defaults = {}) {
	const given = process.argv[2] ? JSON.parse(process.argv[2]) : {};
	return { ...defaults, ...given };
}

/**
 * Hands the figures to bench/run.mjs: one line on stdout, which run.mjs picks out by its prefix. Anything else a
 * benchmark prints is passed through as progress.
 */
export function report(result) {
	process.stdout.write(`BENCH-RESULT ${JSON.stringify(result)}\n`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Keeps the calling thread busy for `ms`: the CPU work a worker loop is meant to move off the main thread. */
export function burn(ms) {
	const end = performance.now() + ms;
	while (performance.now() < end) {
		// Busy on purpose.
	}
}

/**
 * A sub-millisecond wall clock that agrees with Date.now(). Targets of discord-tasks loops are Date.now()
 * milliseconds, but Date.now() itself only has 1 ms resolution: it would round every lateness to a whole
 * millisecond. So we find the performance.now() instant at which Date.now() ticks over and read
 * performance.now() + offset from then on. Each reading of the tick can only come late (a preempted spin reads it
 * late by the whole preemption), which makes the offset too small, so the largest of several readings is the
 * right one. `drift()` repeats the calibration, to show the two clocks did not move apart meanwhile.
 */
export function calibratedWallClock() {
	const offset = measureOffset();
	return {
		now: () => performance.now() + offset,
		drift: () => measureOffset() - offset,
	};
}

function measureOffset(readings = 7) {
	let best = Number.NEGATIVE_INFINITY;
	for (let i = 0; i < readings; i++) {
		const start = Date.now();
		let tick = Date.now();
		while (tick === start) tick = Date.now();
		best = Math.max(best, tick - performance.now());
	}
	return best;
}

/**
 * A clock shared by processes on this machine: process.hrtime is CLOCK_MONOTONIC, which on Linux is system-wide,
 * so a timestamp taken in one process can be compared with one taken in another without any calibration.
 * Milliseconds, as a float.
 */
export function sharedNowMs() {
	return Number(process.hrtime.bigint()) / 1e6;
}

/** A logger that drops everything: the benchmarks crash workers on purpose and need no stack traces on stderr. */
export const silentLogger = { warn() {}, error() {} };

/** A bench task module under bench/tasks, as a URL. */
export const task = (name) => new URL(`./tasks/${name}`, import.meta.url);

/**
 * The hand-written reference loop: a drift-corrected setTimeout loop that re-arms when woken before its target, so
 * it is never early. Fires at `firstTarget`, then every `intervalMs`, calling `onFire(lateness)` (ms, on `clock`);
 * keeps its pending timer in `timers[index]` so the caller can clear it.
 */
export function startHandLoop(clock, { firstTarget, intervalMs, timers, index, onFire }) {
	let target = firstTarget;
	const tick = () => {
		const now = clock.now();
		if (now < target) {
			timers[index] = setTimeout(tick, target - now);
			return;
		}
		onFire(now - target);
		target += intervalMs;
		timers[index] = setTimeout(tick, target - clock.now());
	};
	timers[index] = setTimeout(tick, Math.max(0, target - clock.now()));
}
