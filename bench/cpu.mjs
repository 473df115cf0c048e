// Benchmark 8: main-thread CPU per firing of many 100 ms loops with an empty synchronous body, against a
// hand-written drift-corrected setTimeout loop (and toad-scheduler). The subjects take turns in slices inside one
// process, so each sees the same machine state: a slice starts N loops at random phases, lets them run for a second,
// then measures the main thread's CPU time (/proc/thread-self/schedstat, ns) and the firings over `measureMs`.
import { readFileSync } from 'node:fs';
import { loop } from 'discord-tasks';
import { SimpleIntervalJob, Task, ToadScheduler } from 'toad-scheduler';
import { params, report, silentLogger, sleep, startHandLoop } from './common.mjs';
import { spread } from './stats.mjs';

const { loops, intervalMs, warmupMs, measureMs, rounds, subjects } = params({
	loops: 1000,
	intervalMs: 100,
	warmupMs: 1000,
	measureMs: 2000,
	rounds: 3,
	subjects: ['setTimeout', 'discord-tasks', 'toad'],
});

let fired = 0;
const count = () => {
	fired += 1;
};

/** CPU time of the calling thread in ns: the main thread's own, not the GC or compiler threads'. */
function threadCpuNs() {
	try {
		return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
	} catch {
		// Not Linux: the process's CPU time (all threads) is the closest figure there is.
		const { user, system } = process.cpuUsage();
		return (user + system) * 1000;
	}
}

const startDelay = () => Math.random() * intervalMs;

const starters = {
	'discord-tasks'() {
		const all = [];
		for (let i = 0; i < loops; i++) {
			const each = loop({ seconds: intervalMs / 1000, logger: silentLogger, name: `cpu-${i}` }, count);
			all.push(each);
			setTimeout(() => void each.start(), startDelay());
		}
		return () => Promise.all(all.map((each) => each[Symbol.asyncDispose]()));
	},
	setTimeout() {
		const timers = new Array(loops);
		const clock = { now: Date.now };
		for (let i = 0; i < loops; i++) {
			timers[i] = setTimeout(() => {
				startHandLoop(clock, { firstTarget: Date.now() + intervalMs, intervalMs, timers, index: i, onFire: count });
			}, startDelay());
		}
		return async () => {
			for (const timer of timers) clearTimeout(timer);
		};
	},
	toad() {
		const scheduler = new ToadScheduler();
		const timers = [];
		for (let i = 0; i < loops; i++) {
			timers.push(
				setTimeout(() => {
					scheduler.addSimpleIntervalJob(new SimpleIntervalJob({ milliseconds: intervalMs }, new Task(`t${i}`, count)));
				}, startDelay()),
			);
		}
		return async () => {
			for (const timer of timers) clearTimeout(timer);
			scheduler.stop();
		};
	},
};

const samples = Object.fromEntries(subjects.map((subject) => [subject, []]));
for (let round = 0; round < rounds; round++) {
	for (const subject of subjects) {
		const stop = starters[subject]();
		await sleep(warmupMs);
		const cpuBefore = threadCpuNs();
		const firedBefore = fired;
		await sleep(measureMs);
		const cpuNs = threadCpuNs() - cpuBefore;
		const firings = fired - firedBefore;
		await stop();
		samples[subject].push({ usPerFiring: cpuNs / 1000 / firings, firings, busyShare: cpuNs / 1e6 / measureMs });
		await sleep(300); // let the stopped subject's garbage go before the next one
	}
}

const figures = {};
for (const subject of subjects) {
	figures[subject] = {
		usPerFiring: spread(samples[subject].map((each) => each.usPerFiring)).median,
		busyShare: spread(samples[subject].map((each) => each.busyShare)).median,
		firings: spread(samples[subject].map((each) => each.firings)).median,
	};
}
report({ loops, figures });
