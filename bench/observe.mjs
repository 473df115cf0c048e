// Benchmark 8: what observing loops costs on the main thread, per firing.
//
// Many main-thread loops with a no-op body fire every 100 ms; the process's CPU time (process.cpuUsage, user +
// system) over a window, divided by the firings in it, is the main-thread CPU per firing. Three subjects take turns
// in this one process, window by window:
// - bare: loops made with loop(), nothing listening;
// - controller: the same loops owned by a LoopController (its status counters), no logger or metrics attached;
// - observed: a LoopController with a pino logger (level info, to a stream that drops everything) and LoopMetrics
//   (prom-client) attached: what a production bot runs;
// - logger, metrics: the controller with only one of the two, to show which one costs what.
//
// A second measurement, far less exposed to the machine's noise (timers, other processes), times one back-to-back
// loop (`seconds: 0`, a clock whose zero-length sleeps resolve at once) for `iterations` iterations per subject:
// the whole iteration is main-thread CPU, so the differences between subjects are the observation's cost.
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { LoopController, loop } from 'discord-tasks';
import { LoopMetrics } from 'discord-tasks/prometheus';
import pino from 'pino';
import { Registry } from 'prom-client';
import { params, report, silentLogger, sleep } from './common.mjs';
import { summarize } from './stats.mjs';

const { loops, intervalMs, windowMs, warmupMs, rounds, iterations } = params({
	loops: 1000,
	intervalMs: 100,
	windowMs: 1000,
	warmupMs: 300,
	rounds: 5,
	iterations: 50_000,
});

/** Sleeps of zero resolve through a microtask: a back-to-back loop then never waits on a timer. */
const instantClock = {
	now: () => Date.now(),
	sleep: (ms, signal) => (ms > 0 ? sleep(ms) : Promise.resolve()).then(() => signal?.throwIfAborted()),
};

const sink = new Writable({
	write(_chunk, _encoding, callback) {
		callback();
	},
});

/** What each subject attaches: observed = logger + metrics; the other two split it, to show where the cost is. */
const SUBJECTS = {
	bare: {},
	controller: { controller: true },
	logger: { controller: true, logger: true },
	metrics: { controller: true, metrics: true },
	observed: { controller: true, logger: true, metrics: true },
};

/** Creates the subject's loops (`count` of them, each with `options`); returns them started, and their end. */
function setUp(subject, count = loops, options = { seconds: intervalMs / 1000 }) {
	const attach = SUBJECTS[subject];
	let firings = 0;
	const body = () => {
		firings += 1;
	};
	let created;
	let close = () => {};
	if (!attach.controller) {
		created = Array.from({ length: count }, (_, i) => loop({ ...options, logger: silentLogger, name: `l${i}` }, body));
	} else {
		// Without a logger attached: one that drops warnings (the default writes them to stderr), debug and info off.
		const tasks = new LoopController({ logger: attach.logger ? pino({ level: 'info' }, sink) : silentLogger });
		const metrics = attach.metrics ? new LoopMetrics(tasks, { registry: new Registry() }) : undefined;
		// Each loop inherits the controller's logger.
		created = Array.from({ length: count }, (_, i) => tasks.loop({ ...options, name: `l${i}` }, body));
		close = () => metrics?.close();
	}
	const runs = created.map((each) => each.start());
	return {
		firings: () => firings,
		done: () => Promise.all(runs),
		async end() {
			for (const each of created) each.cancel();
			await Promise.all(created.map((each) => each[Symbol.asyncDispose]()));
			close();
		},
	};
}

/** One window of one subject: µs of main-thread CPU per firing. */
async function measure(subject) {
	const run = setUp(subject);
	await sleep(warmupMs);
	const firingsBefore = run.firings();
	const cpuBefore = process.cpuUsage();
	await sleep(windowMs);
	const cpu = process.cpuUsage(cpuBefore);
	const firings = run.firings() - firingsBefore;
	await run.end();
	return (cpu.user + cpu.system) / firings;
}

/** One back-to-back run of one subject: µs of main-thread time per iteration. */
async function measureTight(subject) {
	const run = setUp(subject, 1, { seconds: 0, count: iterations, clock: instantClock });
	const started = performance.now();
	await run.done();
	const elapsed = performance.now() - started;
	await run.end();
	return (elapsed * 1000) / iterations;
}

const subjects = Object.keys(SUBJECTS);

/** Every subject measured `rounds` times, in turns; one unmeasured turn each first, so the JIT has compiled each path. */
async function inTurns(measureOne) {
	const samples = Object.fromEntries(subjects.map((subject) => [subject, []]));
	for (const subject of subjects) await measureOne(subject);
	for (let round = 0; round < rounds; round++) {
		// Rotate the order so no subject always runs right after the same one (GC left over from the previous one).
		for (let k = 0; k < subjects.length; k++) {
			const subject = subjects[(round + k) % subjects.length];
			samples[subject].push(await measureOne(subject));
		}
	}
	return samples;
}

const samples = await inTurns(measure);
const tight = await inTurns(measureTight);
// The difference within each round, so machine drift between rounds cancels out.
const overBare = samples.observed.map((value, i) => value - samples.bare[i]);
const overController = samples.observed.map((value, i) => value - samples.controller[i]);

const figures = {};
for (const [name, list] of Object.entries(samples)) figures[name] = summarize(list);
figures.observedOverBare = summarize(overBare);
figures.observedOverController = summarize(overController);
for (const [name, list] of Object.entries(tight)) figures[`tight_${name}`] = summarize(list);
figures.tightObservedOverController = summarize(tight.observed.map((value, i) => value - tight.controller[i]));
figures.tightObservedOverBare = summarize(tight.observed.map((value, i) => value - tight.bare[i]));
report({ unit: 'µs per firing', loops, intervalMs, figures });
