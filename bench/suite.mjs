// What bench/run.mjs runs: each benchmark's processes per mode, and how its runs turn into tables, ratios and
// verdicts. Every figure is a median over one process's samples (or the figure a process reports); across
// processes we give the median run and the min–max range. Ratios are taken within one run (same process, or the
// same repetition of the suite), then spread across runs, so machine drift between runs cancels out.
import { spread } from './stats.mjs';

const SIZES = {
	full: {
		runs: 5,
		heavyRuns: 3,
		dispatch: { rounds: 30, batch: 200, warmupRounds: 3 },
		responsiveness: { durationMs: 5000, warmupMs: 500 },
		accuracy: { durationMs: 5000, loops: [1000, 10_000] },
		crash: { crashes: 15, settleMs: 100 },
		perRun: { runs: 20 },
		memory: { loops: 10_000, bigLoops: 100_000, iterations: 100_000, checkpoint: 1000, settleMs: 1000 },
		throughput: { sliceMs: 500, rounds: 6, warmupRounds: 1 },
		cpu: { loops: [1000, 10_000], warmupMs: 1000, measureMs: 2000, rounds: 3 },
		scale: { loops: 100_000, intervalMs: 10_000, durationMs: 12_000 },
		observe: { loops: 1000, intervalMs: 100, windowMs: 1000, warmupMs: 300, rounds: 5, iterations: 50_000 },
		cluster: {
			runs: 2,
			lateness: { intervalMs: 500, sliceMs: 10_000, rounds: 3, warmupTicks: 2, warmupMs: 2000 },
			many: { loops: 1000, intervalMs: 1000, processes: 3, warmupMs: 5000, durationMs: 20_000, settleMs: 2000 },
			failover: {
				intervalMs: 500,
				bodyMs: 100,
				kills: { midBody: 3, afterBody: 1 },
				defaults: { midBody: 1, afterBody: 1 },
			},
		},
	},
	quick: {
		runs: 2,
		heavyRuns: 1,
		dispatch: { rounds: 12, batch: 150, warmupRounds: 2 },
		responsiveness: { durationMs: 2500, warmupMs: 300 },
		accuracy: { durationMs: 2000, loops: [1000, 10_000] },
		crash: { crashes: 6, settleMs: 60 },
		perRun: { runs: 8 },
		memory: { loops: 10_000, bigLoops: 100_000, iterations: 20_000, checkpoint: 1000, settleMs: 500 },
		throughput: { sliceMs: 300, rounds: 3, warmupRounds: 1 },
		cpu: { loops: [1000, 10_000], warmupMs: 800, measureMs: 1500, rounds: 2 },
		scale: { loops: 100_000, intervalMs: 10_000, durationMs: 11_000 },
		observe: { loops: 1000, intervalMs: 100, windowMs: 500, warmupMs: 200, rounds: 3, iterations: 20_000 },
		cluster: {
			runs: 1,
			lateness: { intervalMs: 500, sliceMs: 5000, rounds: 2, warmupTicks: 2, warmupMs: 1500 },
			many: { loops: 1000, intervalMs: 1000, processes: 3, warmupMs: 4000, durationMs: 8000, settleMs: 2000 },
			failover: {
				intervalMs: 500,
				bodyMs: 100,
				kills: { midBody: 1, afterBody: 1 },
				defaults: { midBody: 1, afterBody: 0 },
			},
		},
	},
	smoke: {
		runs: 1,
		heavyRuns: 1,
		dispatch: { rounds: 2, batch: 20, warmupRounds: 1 },
		responsiveness: { durationMs: 400, warmupMs: 100 },
		accuracy: { durationMs: 500, loops: [200] },
		crash: { crashes: 1, settleMs: 20 },
		perRun: { runs: 1 },
		memory: { loops: 200, bigLoops: 2000, iterations: 2000, checkpoint: 500, settleMs: 100 },
		throughput: { sliceMs: 100, rounds: 1, warmupRounds: 0 },
		cpu: { loops: [200], warmupMs: 100, measureMs: 150, rounds: 1 },
		scale: { loops: 2000, intervalMs: 300, durationMs: 350 },
		observe: { loops: 100, intervalMs: 100, windowMs: 200, warmupMs: 50, rounds: 1, iterations: 1000 },
		// Tiny: a short slice each, 30 loops, one kill with short locks; the default-lock failover (15 s) is skipped.
		cluster: {
			runs: 1,
			lateness: { intervalMs: 200, sliceMs: 600, rounds: 1, warmupTicks: 1, warmupMs: 400 },
			many: { loops: 30, intervalMs: 500, processes: 3, warmupMs: 1000, durationMs: 1000, settleMs: 500 },
			failover: {
				intervalMs: 200,
				bodyMs: 60,
				lockDurationMs: 500,
				stalledIntervalMs: 250,
				kills: { midBody: 1, afterBody: 0 },
				defaults: undefined,
			},
		},
	},
};

// ---- figures ------------------------------------------------------------------------------------------------

/** Reads `a.b.c` from an object. */
const at = (object, path) => path.split('.').reduce((value, key) => value?.[key], object);
/** The spread across runs of one figure. */
const across = (runs, path) => spread(runs.map((run) => at(run, path)));
/** The spread across runs of a per-run function (a ratio or a difference within one run). */
const perRun = (runs, fn) => spread(runs.map((run, index) => fn(run, index)));
/** The spread across runs of `a / b`, paired run by run. */
const ratioAcross = (runsA, pathA, runsB, pathB) => perRun(runsA, (run, i) => at(run, pathA) / at(runsB[i], pathB));

export function formatNumber(value) {
	if (!Number.isFinite(value)) return '—';
	const magnitude = Math.abs(value);
	if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
	if (magnitude >= 100) return value.toFixed(0);
	if (magnitude >= 10) return value.toFixed(1);
	if (magnitude >= 1) return value.toFixed(2);
	return value.toFixed(3);
}
/** `median (min–max)`; a single run prints as its value. */
export function formatSpread(s, suffix = '') {
	if (!s || s.runs === 0) return '—';
	if (s.runs === 1 || s.min === s.max) return `${formatNumber(s.median)}${suffix}`;
	return `${formatNumber(s.median)} (${formatNumber(s.min)}–${formatNumber(s.max)})${suffix}`;
}
const ratio = (s) => formatSpread(s, '×');
const verdict = (target, met, figure) => ({ target, met, figure });

/** A benchmark's params, with the baseline build to run beside this one when the run has one (`--baseline`). */
const withBaseline = (params, { baseline }) =>
	baseline ? { ...params, baseline: { rev: baseline.rev, commit: baseline.commit, entry: baseline.entry } } : params;

/**
 * The before/after table of a run with a baseline: each figure of this build next to the same figure of the
 * baseline's, measured in the same processes, and their ratio run by run. `pairs`: [after path, before path, label].
 */
function beforeAfterTable(runs, pairs, { baseline }, unit) {
	return {
		title: `Before (the baseline, ${baseline.commit.slice(0, 7)}) and after (this build), in the same processes`,
		columns: ['figure', `before ${unit}`, `after ${unit}`, 'after ÷ before'],
		rows: pairs.map(([after, beforePath, label]) => [
			label,
			formatSpread(across(runs, beforePath)),
			formatSpread(across(runs, after)),
			ratio(ratioAcross(runs, after, runs, beforePath)),
		]),
	};
}

// ---- benchmarks -------------------------------------------------------------------------------------------

function dispatch(sizes, environment) {
	const params = withBaseline(sizes.dispatch, environment);
	const configs = [{ key: 'unpinned', params }];
	if (environment.taskset) configs.push({ key: 'pinned', params, pin: true });
	const subjects = [
		['loopCycle', 'discord-tasks loop, one whole iteration (iterationStarted → next iterationStarted)'],
		['loopIteration', 'discord-tasks loop, iterationStarted → iterationCompleted'],
		['loopRunPerIteration', 'discord-tasks loop, run duration / count (mean per iteration, per batch)'],
		['taskPool', 'TaskPool per-iteration path (runIteration), called directly'],
		['piscinaAtomicsDisabled', "bare piscina `run()`, atomics: 'disabled' (TaskPool's setting)"],
		['piscina', 'bare piscina `run()` (anchor)'],
		['raw', 'raw worker postMessage round trip (anchor, the floor)'],
	];
	return {
		id: 'dispatch',
		title: '1. Dispatch per worker iteration (no-op body), µs',
		method:
			'Sequential calls, one in flight, one worker per subject (`threads: 1`). The subjects take turns in batches of calls inside one process (A/B alternation), so each sees the same machine state; the whole process is run unpinned and, separately, pinned to one CPU with `taskset -c 0`. Per-call times from performance.now().',
		file: 'dispatch.mjs',
		runs: sizes.runs,
		configs,
		analyze(runs) {
			const tables = [];
			const verdicts = [];
			for (const { key } of configs) {
				const list = runs[key];
				const rows = subjects.map(([name, label]) => [
					label,
					formatSpread(across(list, `figures.${name}.p50`)),
					formatSpread(across(list, `figures.${name}.p99`)),
					ratio(ratioAcross(list, `figures.${name}.p50`, list, 'figures.piscina.p50')),
					ratio(ratioAcross(list, `figures.${name}.p50`, list, 'figures.raw.p50')),
				]);
				tables.push({
					title: key === 'pinned' ? 'Pinned: `taskset -c 0` (main thread and workers share one CPU)' : 'Unpinned',
					columns: ['subject', 'p50 µs', 'p99 µs', 'p50 ÷ piscina', 'p50 ÷ raw'],
					rows,
				});
				if (environment.baseline) {
					const pairs = subjects
						.filter(([name]) => name.startsWith('loop'))
						.map(([name, label]) => [`figures.${name}.p50`, `figures.${name}Before.p50`, `${label}, p50`]);
					const table = beforeAfterTable(list, pairs, environment, 'µs');
					tables.push({ ...table, title: `${key === 'pinned' ? 'Pinned' : 'Unpinned'}: ${table.title}` });
				}
				for (const name of ['loopCycle', 'taskPool']) {
					const r = ratioAcross(list, `figures.${name}.p50`, list, 'figures.piscina.p50');
					verdicts.push(
						verdict(
							`${name === 'loopCycle' ? 'loop iteration' : 'TaskPool.runIteration'} p50 ≤ 1.3× bare piscina (${key})`,
							r.median <= 1.3,
							`${formatSpread(across(list, `figures.${name}.p50`))} µs vs ${formatSpread(across(list, 'figures.piscina.p50'))} µs = ${ratio(r)}`,
						),
					);
				}
			}
			return { tables, verdicts };
		},
	};
}

function responsiveness(sizes) {
	const scenarios = [
		['none', 'no job (baseline)'],
		['worker', 'discord-tasks worker loop (200 ms CPU every 500 ms)'],
		['main', 'main-thread loop with the same body'],
	];
	return {
		id: 'responsiveness',
		title: '2. Main-thread responsiveness: latency of events from another process, ms',
		method:
			'A child process sends its CLOCK_MONOTONIC time over loopback TCP every 1–3 ms (random); the benchmark records arrival − sent on the same clock (process.hrtime is system-wide on Linux, so no calibration is needed). One scenario per process; ELD max is monitorEventLoopDelay({ resolution: 1 }).max minus the 1 ms sampling interval.',
		file: 'responsiveness.mjs',
		runs: sizes.heavyRuns,
		configs: scenarios.map(([scenario]) => ({ key: scenario, params: { scenario, ...sizes.responsiveness } })),
		analyze(runs) {
			const rows = scenarios.map(([scenario, label]) => [
				label,
				formatSpread(across(runs[scenario], 'latency.p50')),
				formatSpread(across(runs[scenario], 'latency.p99')),
				formatSpread(across(runs[scenario], 'latency.max')),
				formatSpread(across(runs[scenario], 'eldMaxMs')),
				formatSpread(across(runs[scenario], 'latency.n')),
			]);
			const excess = perRun(runs.worker, (run, i) => run.latency.p99 - runs.none[i].latency.p99);
			const mainExcess = perRun(runs.main, (run, i) => run.latency.p99 - runs.none[i].latency.p99);
			const negative = runs.none.concat(runs.worker, runs.main).reduce((sum, run) => sum + run.latency.negative, 0);
			return {
				tables: [
					{
						title: 'Event latency (arrival − sent on CLOCK_MONOTONIC) and event-loop delay max',
						columns: ['where the job runs', 'p50 ms', 'p99 ms', 'max ms', 'ELD max ms', 'events'],
						rows,
					},
					{
						title: 'p99 above the no-job baseline, same run',
						columns: ['subject', 'p99 − baseline p99, ms'],
						rows: [
							['discord-tasks worker loop', formatSpread(excess)],
							['main-thread loop', formatSpread(mainExcess)],
						],
					},
				],
				verdicts: [
					verdict(
						'worker-loop p99 within 0.5 ms of the no-job p99',
						excess.median <= 0.5,
						`${formatSpread(across(runs.worker, 'latency.p99'))} ms vs ${formatSpread(across(runs.none, 'latency.p99'))} ms, a difference of ${formatSpread(excess)} ms`,
					),
				],
				notes: [`Events that arrived "before" they were sent (a clock check): ${negative}.`],
			};
		},
	};
}

function accuracy(sizes) {
	const subjects = [
		['discord-tasks', 'discord-tasks loops (`seconds: 0.1`, empty body)'],
		['setTimeout', 'hand-written setTimeout loop, drift-corrected, never early (anchor)'],
		['toad', 'toad-scheduler SimpleIntervalJob (anchor)'],
	];
	const groups = [];
	for (const loops of sizes.accuracy.loops) {
		for (const phase of ['random', 'aligned']) {
			// toad-scheduler has no notion of phase: its jobs start when they are added; one phase is enough.
			const names = phase === 'random' ? subjects : subjects.filter(([name]) => name !== 'toad');
			groups.push({ loops, phase, subjects: names });
		}
	}
	if (sizes === SIZES.smoke) groups.splice(1);
	const key = (subject, loops, phase) => `${subject}-${loops}-${phase}`;
	const configs = groups.flatMap(({ loops, phase, subjects: names }) =>
		names.map(([subject]) => ({
			key: key(subject, loops, phase),
			params: { subject, loops, phase, durationMs: sizes.accuracy.durationMs },
		})),
	);
	return {
		id: 'accuracy',
		title: '3. Schedule accuracy: lateness of each firing of concurrent 100 ms loops, ms',
		method:
			"One subject and configuration per process. Lateness = observed firing time − target, on a sub-ms clock calibrated to Date.now() (discord-tasks: the `target` of iterationStarted; others: start + k × 100 ms). Each loop's first firing is left out. Early = firings observed more than 0.01 ms before their target (the calibrated clock agrees with Date.now() to a few µs; for discord-tasks every firing is also checked exactly with Date.now(), the clock it schedules with). “After 1 s” leaves out the first second, where thousands of loops starting at once delay each other. Drift = median lateness of the last 5 firings of each loop − of its first 5 after that first second. Random phase: loops start at random points of one interval; aligned: all at once. Skipped targets: gaps in a discord-tasks loop's grid of targets (a firing that `missedIterations: 'skip'` dropped because the loop was late).",
		file: 'accuracy.mjs',
		runs: sizes.heavyRuns,
		configs,
		analyze(runs) {
			const tables = [];
			const verdicts = [];
			for (const { loops, phase, subjects: names } of groups) {
				const ours = runs[key('discord-tasks', loops, phase)];
				const reference = runs[key('setTimeout', loops, phase)];
				const rows = names.map(([subject, label]) => {
					const list = runs[key(subject, loops, phase)];
					return [
						label,
						formatSpread(across(list, 'lateness.p50')),
						formatSpread(across(list, 'lateness.p99')),
						formatSpread(across(list, 'lateness.max')),
						formatSpread(across(list, 'steady.p50')),
						formatSpread(across(list, 'steady.p99')),
						list.reduce((sum, run) => sum + run.early, 0).toLocaleString('en-US'),
						formatSpread(across(list, 'driftMs')),
						formatSpread(across(list, 'lateness.n')),
						subject === 'discord-tasks'
							? list.reduce((sum, run) => sum + (run.missed ?? 0), 0).toLocaleString('en-US')
							: '',
						ratio(ratioAcross(list, 'lateness.p99', reference, 'lateness.p99')),
					];
				});
				tables.push({
					title: `${loops.toLocaleString('en-US')} loops, ${phase} phase`,
					columns: [
						'subject',
						'p50',
						'p99',
						'max',
						'p50 after 1 s',
						'p99 after 1 s',
						'early',
						'drift (last − first)',
						'firings',
						'skipped targets',
						'p99 ÷ setTimeout',
					],
					rows,
				});
				// The hand-written loop's p99 after the first second, in the same run, plus a margin: 0.5 ms at 1,000
				// loops (random phase), 1 ms at 10,000 (both phases). 1,000 aligned loops are reported without a target.
				const margin = loops >= 10_000 ? 1 : phase === 'random' ? 0.5 : null;
				if (margin !== null) {
					const excess = perRun(ours, (run, i) => run.steady.p99 - reference[i].steady.p99);
					verdicts.push(
						verdict(
							`p99 after the first second ≤ the setTimeout loop's + ${margin} ms at ${loops.toLocaleString('en-US')} loops, ${phase} phase`,
							excess.median <= margin,
							`${formatSpread(across(ours, 'steady.p99'))} ms vs ${formatSpread(across(reference, 'steady.p99'))} ms, a difference of ${formatSpread(excess)} ms; whole run ${formatSpread(across(ours, 'lateness.p99'))} ms`,
						),
					);
				}
				if (loops >= 10_000) {
					const skipped = ours.reduce((sum, run) => sum + (run.missed ?? 0), 0);
					verdicts.push(
						verdict(
							`every due firing delivered at ${loops.toLocaleString('en-US')} loops, ${phase} phase (no skipped target)`,
							skipped === 0,
							`${skipped.toLocaleString('en-US')} skipped targets; ${formatSpread(across(ours, 'lateness.n'))} firings (setTimeout loop ${formatSpread(across(reference, 'lateness.n'))})`,
						),
					);
				}
				const early = ours.reduce((sum, run) => sum + run.early, 0);
				const earlyByDateNow = ours.reduce((sum, run) => sum + (run.earlyByDateNow ?? 0), 0);
				verdicts.push(
					verdict(
						`never early at ${loops.toLocaleString('en-US')} loops, ${phase} phase`,
						early + earlyByDateNow === 0,
						`${early} early on the calibrated clock, ${earlyByDateNow} on Date.now(); earliest firing ${formatNumber(Math.min(...ours.map((run) => run.lateness.min)))} ms from its target`,
					),
				);
				const drift = across(ours, 'driftMs');
				verdicts.push(
					verdict(
						`no cumulative drift at ${loops.toLocaleString('en-US')} loops, ${phase} phase (last − first median lateness ≤ 1 ms)`,
						drift.median <= 1,
						`${formatSpread(drift)} ms`,
					),
				);
			}
			return { tables, verdicts };
		},
	};
}

function crash(sizes, environment) {
	const subjects = [
		['loop', 'discord-tasks worker loop (crash → retry with a 0 ms backoff)'],
		['taskPool', 'TaskPool per-iteration path (crash → next runIteration)'],
		['piscina', 'bare piscina (anchor)'],
	];
	return {
		id: 'crash',
		title: '4. Crash recovery: run that kills its worker → next run done on a fresh worker, ms',
		method:
			'One running worker per pool (threads = minThreads = 1, so both replace a dead worker at once; a TaskPool with minThreads ≥ 1 also keeps one idle spare, which bare piscina has not); the task calls process.exit on its third run in a worker. Timed from submitting the crashing run to the next run finished on the fresh worker. The subjects take turns, one crash each, in one process. Stall = monitorEventLoopDelay (1 ms sampling) max over the recovery, minus the sampling interval.',
		file: 'crash.mjs',
		runs: sizes.heavyRuns,
		configs: [{ key: 'crash', params: withBaseline(sizes.crash, environment) }],
		analyze({ crash: runs }) {
			const rows = subjects.map(([name, label]) => [
				label,
				formatSpread(across(runs, `figures.${name}.recovery.p50`)),
				formatSpread(across(runs, `figures.${name}.recovery.p99`)),
				formatSpread(across(runs, `figures.${name}.rejection.p50`)),
				formatSpread(across(runs, `figures.${name}.stall.p50`)),
				formatSpread(across(runs, `figures.${name}.stall.max`)),
				formatSpread(perRun(runs, (run) => run.figures[name].recovery.p50 - run.figures.piscina.recovery.p50)),
			]);
			rows.push([
				'nothing running (the noise floor of the stall figure)',
				'',
				'',
				'',
				formatSpread(across(runs, 'figures.idle.stall.p50')),
				formatSpread(across(runs, 'figures.idle.stall.max')),
				'',
			]);
			const verdicts = [];
			for (const [name] of subjects.slice(0, 2)) {
				const extra = perRun(runs, (run) => run.figures[name].recovery.p50 - run.figures.piscina.recovery.p50);
				verdicts.push(
					verdict(
						`${name === 'loop' ? 'worker loop' : 'TaskPool'} recovery within 5 ms of piscina's`,
						extra.median <= 5,
						`${formatSpread(across(runs, `figures.${name}.recovery.p50`))} ms vs ${formatSpread(across(runs, 'figures.piscina.recovery.p50'))} ms, a difference of ${formatSpread(extra)} ms`,
					),
				);
				const stall = across(runs, `figures.${name}.stall.p50`);
				verdicts.push(
					verdict(
						`main thread blocked < 1 ms during a ${name === 'loop' ? 'worker loop' : 'TaskPool'} recovery (median of the per-recovery ELD max)`,
						stall.median < 1,
						`${formatSpread(stall)} ms (piscina ${formatSpread(across(runs, 'figures.piscina.stall.p50'))} ms, idle ${formatSpread(across(runs, 'figures.idle.stall.p50'))} ms)`,
					),
				);
			}
			const warm = across(runs, 'figures.loopBackoff.recovery.p50');
			verdicts.push(
				verdict(
					'worker loop with a backoff ≥ 100 ms: from the crash to the retry done, minus the backoff, ≤ 5 ms',
					warm.median <= 5,
					`${formatSpread(warm)} ms over a backoff of ${formatSpread(across(runs, 'figures.loopBackoff.backoff.p50'))} ms`,
				),
			);
			const beforeAfter = environment.baseline
				? [
						beforeAfterTable(
							runs,
							[
								['figures.loop.recovery.p50', 'figures.loopBefore.recovery.p50', `${subjects[0][1]}, recovery p50`],
								[
									'figures.loopBackoff.recovery.p50',
									'figures.loopBackoffBefore.recovery.p50',
									'worker loop, backoff of ~120 ms: failure → retry done, minus the backoff, p50',
								],
							],
							environment,
							'ms',
						),
					]
				: [];
			return {
				tables: [
					...beforeAfter,
					{
						title: 'Recovery, failure seen, and the longest main-thread stall (ELD max − 1 ms sampling) per recovery',
						columns: [
							'subject',
							'recovery p50',
							'recovery p99',
							'failure seen p50',
							'stall p50',
							'stall max',
							'recovery − piscina',
						],
						rows,
					},
				],
				verdicts,
			};
		},
	};
}

function perRunCost(sizes) {
	const subjects = [
		['warm', 'discord-tasks: one iteration of a `seconds: 0` worker loop (pooled worker)'],
		['loopStart', 'discord-tasks: `start()` → resolved, `count: 1` worker loop, warm pool'],
		['cold', 'discord-tasks: new TaskPool + one iteration (a worker per run, like bree)'],
		['bree', 'bree: one run (new Worker per run) (anchor)'],
	];
	return {
		id: 'perRun',
		title: '5. Cost of one run of a no-op job, against bree, ms',
		method:
			'bree: `run()` → `worker deleted` (it starts a Worker per run and ends it). discord-tasks runs iterations on pooled workers; the cold row pays for its own worker as bree does. The subjects take turns in one process.',
		file: 'per-run.mjs',
		runs: sizes.heavyRuns,
		configs: [{ key: 'perRun', params: sizes.perRun }],
		analyze({ perRun: runs }) {
			const rows = subjects.map(([name, label]) => [
				label,
				formatSpread(across(runs, `figures.${name}.p50`)),
				formatSpread(across(runs, `figures.${name}.p99`)),
				ratio(ratioAcross(runs, 'figures.bree.p50', runs, `figures.${name}.p50`)),
			]);
			return {
				tables: [{ title: 'One run', columns: ['subject', 'p50 ms', 'p99 ms', 'bree p50 ÷ this p50'], rows }],
				verdicts: [],
			};
		},
	};
}

function memory(sizes) {
	const flags = ['--expose-gc'];
	const heapSubjects = [
		['discord-tasks', 'discord-tasks loop (`hours: 1`, started)'],
		['setTimeout', 'hand-written setTimeout loop'],
		['toad', 'toad-scheduler SimpleIntervalJob (anchor)'],
		['croner', "croner `Cron('0 0 * * * *')` (anchor)"],
	];
	const m = sizes.memory;
	const configs = [
		...heapSubjects.map(([subject]) => ({
			key: `heap-${subject}`,
			params: { mode: 'heap', subject, loops: m.loops, settleMs: Math.min(m.settleMs, 500) },
		})),
		// 100,000 sleeping per-guild loops (croner, at ~84 KB a job, cannot be run at this size).
		...heapSubjects
			.filter(([subject]) => subject !== 'croner')
			.map(([subject]) => ({
				key: `heap100k-${subject}`,
				params: { mode: 'heap', subject, loops: m.bigLoops, settleMs: m.settleMs },
			})),
		...['taskPool', 'piscina'].map((subject) => ({
			key: `rss-${subject}`,
			params: { mode: 'rss', subject, settleMs: m.settleMs },
		})),
		...['main', 'worker'].map((subject) => ({
			key: `growth-${subject}`,
			params: { mode: 'growth', subject, iterations: m.iterations, checkpoint: m.checkpoint },
		})),
	].map((config) => ({ ...config, flags }));
	const GROWTH_LIMIT_BYTES = 256 * 1024;
	return {
		id: 'memory',
		title: '6. Memory',
		method:
			"Node with --expose-gc, one measurement per process. Heap: heapUsed after repeated gc() before and after starting N idle loops. RSS: process RSS before and after an idle pool's two workers are up (modules already imported). Growth: heapUsed after gc() inside iterationCompleted at the checkpoint and at the last iteration.",
		file: 'memory.mjs',
		runs: sizes.heavyRuns,
		configs,
		analyze(runs) {
			const ours = runs['heap-discord-tasks'];
			const heapRows = heapSubjects.map(([subject, label]) => [
				label,
				formatSpread(across(runs[`heap-${subject}`], 'bytesPerLoop')),
				ratio(ratioAcross(ours, 'bytesPerLoop', runs[`heap-${subject}`], 'bytesPerLoop')),
			]);
			const bigRows = heapSubjects
				.filter(([subject]) => subject !== 'croner')
				.map(([subject, label]) => [
					label,
					formatSpread(spread(runs[`heap100k-${subject}`].map((run) => run.heapDeltaBytes / 2 ** 20))),
					formatSpread(across(runs[`heap100k-${subject}`], 'bytesPerLoop')),
				]);
			const mib = (list) => spread(list.map((run) => run.rssDeltaBytes / 2 ** 20));
			const rssRows = [
				[
					'idle TaskPool, 2 threads (minThreads: 2)',
					formatSpread(mib(runs['rss-taskPool'])),
					ratio(ratioAcross(runs['rss-taskPool'], 'rssDeltaBytes', runs['rss-piscina'], 'rssDeltaBytes')),
				],
				['idle bare piscina pool, 2 threads (anchor)', formatSpread(mib(runs['rss-piscina'])), '1×'],
			];
			const kib = (list, path) => spread(list.map((run) => at(run, path) / 1024));
			const growthRows = [
				['main-thread loop, `seconds: 0`', 'growth-main'],
				['worker loop, `seconds: 0`', 'growth-worker'],
			].map(([label, config]) => [
				label,
				formatSpread(kib(runs[config], 'atCheckpointBytes')),
				formatSpread(kib(runs[config], 'atEndBytes')),
				formatSpread(kib(runs[config], 'growthBytes')),
				formatSpread(across(runs[config], 'bytesPerIteration')),
			]);
			const perLoop = across(ours, 'bytesPerLoop');
			const bigTotal = spread(runs['heap100k-discord-tasks'].map((run) => run.heapDeltaBytes / 2 ** 20));
			const heapVerdicts = [
				verdict(
					`heap per sleeping interval loop ≤ 1 KB (${m.loops.toLocaleString('en-US')} loops)`,
					perLoop.median <= 1024,
					`${formatSpread(perLoop)} B (setTimeout loop ${formatSpread(across(runs['heap-setTimeout'], 'bytesPerLoop'))} B, toad-scheduler ${formatSpread(across(runs['heap-toad'], 'bytesPerLoop'))} B)`,
				),
				verdict(
					`heap of ${m.bigLoops.toLocaleString('en-US')} sleeping loops ≤ ${m.bigLoops >= 100_000 ? 100 : 100 * (m.bigLoops / 100_000)} MiB`,
					bigTotal.median <= 100 * (m.bigLoops / 100_000),
					`${formatSpread(bigTotal)} MiB`,
				),
			];
			const verdicts = ['main', 'worker'].map((subject) => {
				const growthBytes = across(runs[`growth-${subject}`], 'growthBytes');
				return verdict(
					`${subject === 'main' ? 'main-thread' : 'worker'} loop heap does not grow from ${m.checkpoint.toLocaleString('en-US')} to ${m.iterations.toLocaleString('en-US')} iterations (≤ 256 KiB)`,
					Math.abs(growthBytes.median) <= GROWTH_LIMIT_BYTES,
					`${formatSpread(kib(runs[`growth-${subject}`], 'growthBytes'))} KiB`,
				);
			});
			verdicts.unshift(...heapVerdicts);
			return {
				tables: [
					{
						title: `Heap per idle loop (${m.loops.toLocaleString('en-US')} loops, heapUsed delta after gc / N)`,
						columns: ['subject', 'bytes per loop', 'discord-tasks ÷ this'],
						rows: heapRows,
					},
					{
						title: `Heap of ${m.bigLoops.toLocaleString('en-US')} idle loops (heapUsed delta after gc)`,
						columns: ['subject', 'MiB', 'bytes per loop'],
						rows: bigRows,
					},
					{
						title: 'RSS of an idle pool (delta after the workers are up)',
						columns: ['subject', 'Δ RSS MiB', '÷ piscina'],
						rows: rssRows,
					},
					{
						title: `Heap after ${m.checkpoint.toLocaleString('en-US')} vs ${m.iterations.toLocaleString('en-US')} iterations (heapUsed after gc)`,
						columns: [
							'loop',
							`at ${m.checkpoint.toLocaleString('en-US')} KiB`,
							`at ${m.iterations.toLocaleString('en-US')} KiB`,
							'growth KiB',
							'bytes per iteration',
						],
						rows: growthRows,
					},
				],
				verdicts,
			};
		},
	};
}

function throughput(sizes, environment) {
	const subjects = [
		['loops', 'discord-tasks: 8 worker loops with `seconds: 0`'],
		['taskPool', 'TaskPool per-iteration path, 8 in flight'],
		['piscinaAtomicsDisabled', "bare piscina, 8 in flight, atomics: 'disabled'"],
		['piscina', 'bare piscina, 8 in flight (anchor)'],
	];
	return {
		id: 'throughput',
		title: '7. Throughput: tiny iterations per second through a 2-thread pool',
		method:
			'Eight calls in flight for every subject (eight loops with one iteration each, or eight lanes of sequential calls), 2 worker threads, no-op body; the subjects take turns in short slices in one process.',
		file: 'throughput.mjs',
		runs: sizes.heavyRuns,
		configs: [{ key: 'throughput', params: withBaseline(sizes.throughput, environment) }],
		analyze({ throughput: runs }) {
			const rows = subjects.map(([name, label]) => [
				label,
				formatSpread(across(runs, `figures.${name}.p50`)),
				ratio(ratioAcross(runs, `figures.${name}.p50`, runs, 'figures.piscina.p50')),
			]);
			const tables = [
				{ title: 'Calls per second (median of the slices)', columns: ['subject', 'calls/s', '÷ piscina'], rows },
			];
			if (environment.baseline) {
				tables.push(
					beforeAfterTable(
						runs,
						[['figures.loops.p50', 'figures.loopsBefore.p50', subjects[0][1]]],
						environment,
						'calls/s',
					),
				);
			}
			const verdicts = ['taskPool', 'loops'].map((name) => {
				const r = ratioAcross(runs, `figures.${name}.p50`, runs, 'figures.piscina.p50');
				return verdict(
					`${name === 'loops' ? 'worker loops' : 'TaskPool.runIteration'}, 8 in flight: calls/s ≥ 0.8× bare piscina's`,
					r.median >= 0.8,
					`${formatSpread(across(runs, `figures.${name}.p50`))} vs ${formatSpread(across(runs, 'figures.piscina.p50'))} calls/s = ${ratio(r)}`,
				);
			});
			return { tables, verdicts };
		},
	};
}

function cpu(sizes) {
	const subjects = [
		['discord-tasks', 'discord-tasks loops (`seconds: 0.1`, empty synchronous body)'],
		['setTimeout', 'hand-written setTimeout loop, drift-corrected, never early (anchor)'],
		['toad', 'toad-scheduler SimpleIntervalJob (anchor)'],
	];
	const configs = sizes.cpu.loops.map((loops) => ({
		key: `cpu-${loops}`,
		params: { ...sizes.cpu, loops, subjects: subjects.map(([name]) => name) },
	}));
	return {
		id: 'cpu',
		title: '8. Main-thread CPU per firing of concurrent 100 ms loops, µs',
		method:
			"The subjects take turns in slices inside one process (A/B alternation): a slice starts N loops at random phases of one interval, lets them run, then reads the main thread's own CPU time (/proc/thread-self/schedstat: GC and compiler threads are not counted) and the firings over the measuring window. A cell is the median slice of a process, then spread across runs.",
		file: 'cpu.mjs',
		runs: sizes.heavyRuns,
		configs,
		analyze(runs) {
			const tables = [];
			const verdicts = [];
			for (const { key, params: p } of configs) {
				const list = runs[key];
				tables.push({
					title: `${p.loops.toLocaleString('en-US')} loops`,
					columns: ['subject', 'CPU µs per firing', 'main thread busy', 'firings per slice', '÷ setTimeout'],
					rows: subjects.map(([name, label]) => [
						label,
						formatSpread(across(list, `figures.${name}.usPerFiring`)),
						formatSpread(spread(list.map((run) => run.figures[name].busyShare * 100)), ' %'),
						formatSpread(across(list, `figures.${name}.firings`)),
						ratio(ratioAcross(list, `figures.${name}.usPerFiring`, list, 'figures.setTimeout.usPerFiring')),
					]),
				});
				const r = ratioAcross(list, 'figures.discord-tasks.usPerFiring', list, 'figures.setTimeout.usPerFiring');
				verdicts.push(
					verdict(
						`main-thread CPU per firing ≤ 1.2× the setTimeout loop's at ${p.loops.toLocaleString('en-US')} loops`,
						r.median <= 1.2,
						`${formatSpread(across(list, 'figures.discord-tasks.usPerFiring'))} µs vs ${formatSpread(across(list, 'figures.setTimeout.usPerFiring'))} µs = ${ratio(r)}`,
					),
				);
			}
			return { tables, verdicts };
		},
	};
}

function scale(sizes) {
	const { loops, intervalMs, durationMs } = sizes.scale;
	const subjects = [
		['discord-tasks', `discord-tasks loops (\`seconds: ${intervalMs / 1000}\`, empty body)`],
		['setTimeout', 'hand-written setTimeout loop, drift-corrected, never early (anchor)'],
	];
	const key = (subject, phase) => `${subject}-${phase}`;
	const configs = ['random', 'aligned'].flatMap((phase) =>
		subjects.map(([subject]) => ({
			key: key(subject, phase),
			params: { subject, phase, loops, intervalMs, durationMs },
		})),
	);
	const count = loops.toLocaleString('en-US');
	return {
		id: 'scale',
		title: `9. ${count} loops of ${intervalMs / 1000} s: start-up, lateness, cancel`,
		method: `One subject and phase per process. Random phase: each loop is started at a random point of its first interval (guilds arriving over time); aligned: all are started in one synchronous loop. Start-up = first start() call → every loop's first iteration has run (random: includes the interval the starts are spread over); start calls = time inside the start() calls; stall = the longest event-loop delay (monitorEventLoopDelay max − 1 ms) during start-up and during the rest of the run. Lateness as in benchmark 3, every firing but each loop's first, on a run of ${durationMs / 1000} s after start-up. Cancel = cancel() of every loop → every run's promise settled.`,
		file: 'scale.mjs',
		runs: sizes.heavyRuns,
		configs,
		analyze(runs) {
			const tables = [];
			const verdicts = [];
			for (const phase of ['random', 'aligned']) {
				tables.push({
					title: `${count} loops, ${phase} phase`,
					columns: [
						'subject',
						'start-up ms',
						'start calls ms',
						'stall at start-up ms',
						'stall later ms',
						'lateness p50',
						'p99',
						'max',
						'early',
						'firings',
						'cancel all ms',
					],
					rows: subjects.map(([subject, label]) => {
						const list = runs[key(subject, phase)];
						return [
							label,
							formatSpread(across(list, 'startAllMs')),
							formatSpread(across(list, 'startCallsMs')),
							formatSpread(across(list, 'startStallMs')),
							formatSpread(across(list, 'steadyStallMs')),
							formatSpread(across(list, 'lateness.p50')),
							formatSpread(across(list, 'lateness.p99')),
							formatSpread(across(list, 'lateness.max')),
							list.reduce((sum, run) => sum + run.early, 0).toLocaleString('en-US'),
							formatSpread(across(list, 'lateness.n')),
							formatSpread(across(list, 'cancelMs')),
						];
					}),
				});
			}
			const aligned = runs[key('discord-tasks', 'aligned')];
			const random = runs[key('discord-tasks', 'random')];
			const startUp = across(aligned, 'startAllMs');
			verdicts.push(
				verdict(
					`start ${count} loops in < 2 s (aligned: all start() calls at once → every first iteration run)`,
					startUp.median < 2000,
					`${formatSpread(startUp)} ms (start calls ${formatSpread(across(aligned, 'startCallsMs'))} ms, longest stall ${formatSpread(across(aligned, 'startStallMs'))} ms)`,
				),
			);
			const p99 = across(random, 'lateness.p99');
			verdicts.push(
				verdict(
					`p99 lateness ≤ 5 ms at ${count} loops, random phase`,
					p99.median <= 5,
					`${formatSpread(p99)} ms (setTimeout loop ${formatSpread(across(runs[key('setTimeout', 'random')], 'lateness.p99'))} ms; aligned ${formatSpread(across(aligned, 'lateness.p99'))} ms)`,
				),
			);
			const early = [...aligned, ...random].reduce((sum, run) => sum + run.early, 0);
			verdicts.push(verdict(`never early at ${count} loops`, early === 0, `${early} early on Date.now()`));
			return { tables, verdicts };
		},
	};
}

function observe(sizes) {
	const subjects = [
		['bare', 'loops made with loop(), nothing listening'],
		['controller', 'loops of a LoopController (its status counters), no logger or metrics attached'],
		['logger', 'controller + pino logger (level info)'],
		['metrics', 'controller + LoopMetrics (prom-client)'],
		['observed', 'controller + pino logger + LoopMetrics'],
	];
	const o = sizes.observe;
	return {
		id: 'observe',
		title: '10. What observing costs: main-thread CPU per firing with a logger and metrics attached, µs',
		method:
			'Two measurements, the subjects taking turns round by round in one process, after one unmeasured turn each, the differences taken within each round: (1) one `seconds: 0` loop with a clock whose zero sleeps resolve at once, timed over its iterations (all main-thread CPU, little noise); (2) many no-op loops on a 100 ms interval, process.cpuUsage() over a window divided by the firings in it.',
		file: 'observe.mjs',
		runs: sizes.heavyRuns,
		configs: [{ key: 'observe', params: o }],
		analyze({ observe: runs }) {
			const table = (prefix, title) => ({
				title,
				columns: ['subject', 'µs', '− bare, µs', '− controller, µs'],
				rows: subjects.map(([name, label]) => [
					label,
					formatSpread(across(runs, `figures.${prefix}${name}.p50`)),
					formatSpread(perRun(runs, (run) => run.figures[`${prefix}${name}`].p50 - run.figures[`${prefix}bare`].p50)),
					formatSpread(
						perRun(runs, (run) => run.figures[`${prefix}${name}`].p50 - run.figures[`${prefix}controller`].p50),
					),
				]),
			});
			const added = across(runs, 'figures.tightObservedOverController.p50');
			return {
				tables: [
					table(
						'tight_',
						`One back-to-back loop, ${o.iterations.toLocaleString('en-US')} iterations: µs per iteration`,
					),
					table(
						'',
						`${o.loops.toLocaleString('en-US')} loops every ${o.intervalMs} ms: CPU µs per firing (timers and machine noise included)`,
					),
				],
				verdicts: [
					verdict(
						'a logger and metrics attached add ≤ 1 µs of main-thread CPU per firing',
						added.median <= 1,
						`${formatSpread(added)} µs (back-to-back loop, observed − controller, within each round; − bare loops: ${formatSpread(across(runs, 'figures.tightObservedOverBare.p50'))} µs)`,
					),
				],
			};
		},
	};
}

function cluster(sizes) {
	const c = sizes.cluster;
	const f = c.failover;
	const killList = ({ midBody, afterBody }) => [
		...Array.from({ length: midBody }, () => ({ label: 'midBody', killAfterMs: Math.round(f.bodyMs / 3) })),
		...Array.from({ length: afterBody }, () => ({ label: 'afterBody', killAfterMs: f.bodyMs + 100 })),
	];
	const short = { lockDurationMs: f.lockDurationMs ?? 2000, stalledIntervalMs: f.stalledIntervalMs ?? 1000 };
	const failovers = [
		{ key: 'failover-short', backend: short, kills: f.kills, timeoutMs: 15_000 },
		...(f.defaults ? [{ key: 'failover-defaults', backend: {}, kills: f.defaults, timeoutMs: 40_000 }] : []),
	];
	const configs = [
		{ key: 'lateness', params: { part: 'lateness', ...c.lateness } },
		{ key: 'many', params: { part: 'many', ...c.many } },
		...failovers.map(({ key, backend, kills, timeoutMs }) => ({
			key,
			params: {
				part: 'failover',
				intervalMs: f.intervalMs,
				bodyMs: f.bodyMs,
				backend,
				kills: killList(kills),
				timeoutMs,
			},
		})),
	];
	const subjects = [
		['cluster', `discord-tasks cluster loop (\`seconds: ${c.lateness.intervalMs / 1000}\`, no-op body)`],
		['bare', `bare BullMQ job scheduler (\`every: ${c.lateness.intervalMs}\`, inline no-op processor) (anchor)`],
	];
	const m = c.many;
	const lockText = (backend) =>
		backend.lockDurationMs === undefined
			? 'defaults: lockDurationMs 10000, stalledIntervalMs 5000'
			: `lockDurationMs ${backend.lockDurationMs}, stalledIntervalMs ${backend.stalledIntervalMs}`;
	const killText = {
		midBody: `SIGKILL ${Math.round(f.bodyMs / 3)} ms into the body (${f.bodyMs} ms)`,
		afterBody: `SIGKILL ${f.bodyMs + 100} ms after the tick started (body done, waiting for the next)`,
	};
	return {
		id: 'cluster',
		title: '11. Cluster backend (BullMQ 6 + Redis): ticks across processes',
		method: `A redis-server of its own per benchmark process (127.0.0.1, \`--save '' --appendonly no --hz 100\`; Redis wakes blocked clients on its hz clock, so lateness is about uniform in [0, 10] ms). (1) One process: a cluster loop and a bare BullMQ job scheduler on the same schedule take turns in slices of ${c.lateness.sliceMs / 1000} s (${c.lateness.rounds} each, order swapped every round, one unmeasured turn each first; both with the backend's lock settings 10000/5000 and concurrency 100). Lateness = body start (iterationStarted) or processor start − the tick's instant (the loop's target; the job id \`repeat:<id>:<millis>\`), Date.now() ms. CPU per tick = main-thread CPU (/proc/thread-self/schedstat) and process CPU (process.cpuUsage) from one tick to the tick a slice later, divided by the ticks between: everything the process does meanwhile (blocking reads, lock and stalled checks, heartbeat) is charged to the ticks. Round trips = commands the process sends through ioredis (a pipeline counts once); Redis commands = INFO total_commands_processed, which also counts the commands Lua scripts run inside Redis. (2) ${m.processes} child processes (child_process.fork) declare the same ${m.loops.toLocaleString('en-US')} loops of ${m.intervalMs / 1000} s and all call start() for each at the same moment (so the loops tick in phase, a burst each second); after ${m.warmupMs / 1000} s, a window of ${m.durationMs / 1000} s: ticks expected (each loop's instants in the window) vs delivered (distinct loop + target started), duplicates (a loop + target started twice), lateness, Redis commands, round trips and CPU of the three processes per tick. (3) Three child processes declare one loop of ${f.intervalMs / 1000} s whose body sleeps ${f.bodyMs} ms; the process that starts a tick (reported over IPC) is SIGKILLed; recovery = the kill → the next tick started on a survivor, on CLOCK_MONOTONIC (shared by the processes); a fresh process then replaces the killed one. Delivery is the default (at-most-once) and watchdogMs the default (5000).`,
		file: 'cluster.mjs',
		runs: c.runs,
		configs,
		analyze(runs) {
			const lat = runs.lateness;
			const row = (name, label) => [
				label,
				formatSpread(across(lat, `figures.${name}.lateness.p50`)),
				formatSpread(across(lat, `figures.${name}.lateness.p99`)),
				formatSpread(across(lat, `figures.${name}.lateness.max`)),
				formatSpread(across(lat, `figures.${name}.ticks`)),
				formatSpread(across(lat, `figures.${name}.threadCpuUsPerTick`)),
				formatSpread(across(lat, `figures.${name}.processCpuUsPerTick`)),
				formatSpread(across(lat, `figures.${name}.roundTripsPerTick`)),
				formatSpread(across(lat, `figures.${name}.commandsPerTick`)),
				formatSpread(across(lat, `figures.${name}.redisCpuUsPerTick`)),
			];
			const r = (path) => ratioAcross(lat, `figures.cluster.${path}`, lat, `figures.bare.${path}`);
			const ratioRow = [
				'cluster ÷ bare',
				ratio(r('lateness.p50')),
				ratio(r('lateness.p99')),
				ratio(r('lateness.max')),
				'',
				ratio(r('threadCpuUsPerTick')),
				ratio(r('processCpuUsPerTick')),
				ratio(r('roundTripsPerTick')),
				ratio(r('commandsPerTick')),
				ratio(r('redisCpuUsPerTick')),
			];
			const perName = (name) =>
				Object.entries(lat.at(-1).figures[name].sentByName)
					.map(([command, calls]) => `${command} ${formatNumber(calls)}`)
					.join(', ');
			const many = runs.many;
			const manyRow = [
				formatSpread(across(many, 'expected')),
				formatSpread(across(many, 'delivered')),
				String(many.reduce((sum, run) => sum + run.duplicates, 0)),
				formatSpread(across(many, 'lateness.p50')),
				formatSpread(across(many, 'lateness.p99')),
				formatSpread(across(many, 'lateness.max')),
				formatSpread(across(many, 'roundTripsPerTick')),
				formatSpread(across(many, 'commandsPerTick')),
				formatSpread(across(many, 'processCpuUsPerTick')),
				formatSpread(across(many, 'redisCpuUsPerTick')),
				many.map((run) => run.perProcess.join(' / ')).join('; '),
			];
			const failoverRows = [];
			const recoveries = {};
			for (const { key, backend } of failovers) {
				for (const label of ['midBody', 'afterBody']) {
					const kills = runs[key].flatMap((run) => run.kills.filter((kill) => kill.label === label));
					if (kills.length === 0) continue;
					const recovery = spread(kills.map((kill) => kill.recoveryMs));
					recoveries[`${key}/${label}`] = { recovery, kills };
					failoverRows.push([
						lockText(backend),
						killText[label],
						String(kills.length),
						formatSpread(recovery),
						formatSpread(spread(kills.map((kill) => kill.slotsSkipped))),
						String(kills.reduce((sum, kill) => sum + kill.rerun, 0)),
						String(kills.filter((kill) => !Number.isFinite(kill.recoveryMs)).length),
					]);
				}
			}
			const failoverDuplicates = failovers.reduce(
				(sum, { key }) => sum + runs[key].reduce((s, run) => s + run.duplicates, 0),
				0,
			);
			const verdicts = [
				verdict(
					'cluster loop lateness p50 within 1.2× of bare BullMQ',
					r('lateness.p50').median <= 1.2,
					`${formatSpread(across(lat, 'figures.cluster.lateness.p50'))} ms vs ${formatSpread(across(lat, 'figures.bare.lateness.p50'))} ms = ${ratio(r('lateness.p50'))}`,
				),
				verdict(
					'cluster loop lateness p99 within 1.2× of bare BullMQ',
					r('lateness.p99').median <= 1.2,
					`${formatSpread(across(lat, 'figures.cluster.lateness.p99'))} ms vs ${formatSpread(across(lat, 'figures.bare.lateness.p99'))} ms = ${ratio(r('lateness.p99'))}`,
				),
				verdict(
					'cluster loop main-thread CPU per tick within 1.2× of bare BullMQ',
					r('threadCpuUsPerTick').median <= 1.2,
					`${formatSpread(across(lat, 'figures.cluster.threadCpuUsPerTick'))} µs vs ${formatSpread(across(lat, 'figures.bare.threadCpuUsPerTick'))} µs = ${ratio(r('threadCpuUsPerTick'))}; round trips ${formatSpread(across(lat, 'figures.cluster.roundTripsPerTick'))} vs ${formatSpread(across(lat, 'figures.bare.roundTripsPerTick'))}`,
				),
				verdict(
					`${m.loops.toLocaleString('en-US')} loops on ${m.processes} processes: every tick delivered, none twice`,
					many.every((run) => run.delivered === run.expected && run.duplicates === 0),
					`${many.map((run) => `${run.delivered}/${run.expected}, ${run.duplicates} duplicates`).join('; ')}`,
				),
			];
			const mid = recoveries['failover-short/midBody'];
			if (mid) {
				verdicts.push(
					verdict(
						`SIGKILL mid-body (${lockText(short)}): next tick on a survivor within one interval (${f.intervalMs} ms)`,
						mid.recovery.max <= f.intervalMs,
						`${formatSpread(mid.recovery)} ms over ${mid.kills.length} kills, ${formatSpread(spread(mid.kills.map((kill) => kill.slotsSkipped)))} ticks skipped`,
					),
				);
			}
			verdicts.push(
				verdict(
					'failover: no tick run twice (at-most-once)',
					failoverDuplicates === 0,
					`${failoverDuplicates} duplicates`,
				),
			);
			return {
				tables: [
					{
						title: `Cluster loop against bare BullMQ, one process, every ${c.lateness.intervalMs} ms`,
						columns: [
							'subject',
							'lateness p50 ms',
							'p99',
							'max',
							'ticks',
							'main-thread CPU µs/tick',
							'process CPU µs/tick',
							'round trips/tick',
							'Redis commands/tick',
							'Redis CPU µs/tick',
						],
						rows: [...subjects.map(([name, label]) => row(name, label)), ratioRow],
					},
					{
						title: `${m.loops.toLocaleString('en-US')} loops of ${m.intervalMs / 1000} s on ${m.processes} processes, ${m.durationMs / 1000} s window`,
						columns: [
							'expected',
							'delivered',
							'duplicates',
							'lateness p50 ms',
							'p99',
							'max',
							'round trips/tick',
							'Redis commands/tick',
							'CPU µs/tick (3 processes)',
							'Redis CPU µs/tick',
							'ticks per process',
						],
						rows: [manyRow],
					},
					{
						title: `Failover: SIGKILL of the process running a loop of ${f.intervalMs / 1000} s`,
						columns: [
							'locks',
							'kill',
							'kills',
							'recovery ms',
							'ticks skipped',
							'killed tick run again',
							'no tick in time',
						],
						rows: failoverRows,
					},
				],
				notes: [`Round trips per tick, last run: cluster ${perName('cluster')}; bare ${perName('bare')}.`],
				verdicts,
			};
		},
	};
}

/** The benchmarks of a mode (`full`, `quick`, `smoke`). */
export function benchmarks(mode, environment) {
	const sizes = SIZES[mode];
	return [dispatch, responsiveness, accuracy, crash, perRunCost, memory, throughput, cpu, scale, observe, cluster].map(
		(make) => make(sizes, environment),
	);
}
