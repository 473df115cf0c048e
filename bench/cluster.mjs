// Benchmark 11: the cluster backend (discord-tasks/bullmq) on a redis-server of its own (bench/redis.mjs).
//
//   part 'lateness': one process; a cluster loop and a bare BullMQ job scheduler (`every`, inline no-op processor)
//     on the same schedule take turns in slices (A/B alternation, the order swapped each round). Lateness = start
//     of the body (iterationStarted) or of the processor − the tick's instant (the loop's target; the scheduler's
//     job id `repeat:<id>:<millis>`). CPU per tick = the main thread's CPU time (/proc/thread-self/schedstat) and
//     the whole process's (process.cpuUsage) between two ticks a slice apart, divided by the ticks between them.
//     Redis commands and server CPU over the same window, per tick.
//   part 'many': three child processes (child_process.fork) declare the same N loops, connect, and all call
//     start() for every loop at the same instant. Over a window after a warm-up: ticks delivered against the
//     ticks expected (each loop's instants in the window), duplicates (one loop and target started twice),
//     lateness, Redis commands per tick (INFO total_commands_processed), CPU per tick.
//   part 'failover': three child processes declare one loop (`seconds: 0.5`, a body that sleeps `bodyMs`). The
//     parent learns over IPC which process starts each tick, SIGKILLs it `killAfterMs` after the start (during
//     the body, or after the body is done), and times the kill → the next tick started on a survivor, on a
//     clock every process shares (CLOCK_MONOTONIC). A fresh process replaces the killed one before the next kill.
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { LoopController } from 'discord-tasks';
import { bullmqBackend } from 'discord-tasks/bullmq';
import { Redis } from 'ioredis';
import { params, report, sharedNowMs, sleep } from './common.mjs';
import { perTick, startRedis } from './redis.mjs';
import { summarize } from './stats.mjs';

const p = params({ part: 'lateness' });

/** The main thread's CPU time so far, µs (GC and compiler threads are not counted). */
const threadCpuUs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1000;
/** The whole process's CPU time so far (user + system, every thread), µs. */
const processCpuUs = () => {
	const { user, system } = process.cpuUsage();
	return user + system;
};

/**
 * What this process sends to Redis, counted in ioredis (which BullMQ and the backend share): commands, and round
 * trips (a pipeline is one). Commands a Lua script runs inside Redis are not in it; Redis's own counters
 * (INFO commandstats, total_commands_processed) include them. The benchmark's own INFO readings are left out.
 */
const sent = { commands: 0, trips: 0, byName: {} };
{
	const original = Redis.prototype.sendCommand;
	const pipelines = new WeakSet();
	Redis.prototype.sendCommand = function sendCommand(command, stream, node) {
		if (command?.name !== 'info') {
			sent.commands++;
			sent.byName[command.name] = (sent.byName[command.name] ?? 0) + 1;
			if (!stream?.isPipeline) sent.trips++;
			else if (!pipelines.has(stream)) {
				pipelines.add(stream);
				sent.trips++;
			}
		}
		return original.call(this, command, stream, node);
	};
}
const sentSoFar = () => ({ commands: sent.commands, trips: sent.trips, byName: { ...sent.byName } });

/** A logger that counts what the controller says, and keeps the first few warnings (for the report). */
function countingLogger() {
	const said = { warn: 0, error: 0, first: [] };
	const record =
		(level) =>
		(...args) => {
			said[level]++;
			if (said.first.length < 5) said.first.push(`${level}: ${args.find((arg) => typeof arg === 'string') ?? ''}`);
		};
	return { said, logger: { warn: record('warn'), error: record('error') } };
}

// ---- part 'lateness' --------------------------------------------------------------------------------------------

/**
 * Records ticks for one slice: the first `warmupTicks` are left out; the window then runs from one tick to the
 * first tick at least `sliceMs` later, and CPU and Redis figures are read at those two ticks.
 */
function sliceRecorder(redis, { warmupTicks, sliceMs }) {
	let ticks = 0;
	let startedAt = 0;
	let begin;
	let finish;
	const lateness = [];
	const pending = [];
	const done = new Promise((resolve) => {
		finish = resolve;
	});
	const mark = () => ({ at: performance.now(), thread: threadCpuUs(), process: processCpuUs(), sent: sentSoFar() });
	return {
		tick(latenessMs) {
			ticks++;
			if (ticks < warmupTicks + 1) return;
			if (ticks === warmupTicks + 1) {
				begin = { ...mark(), index: ticks };
				startedAt = begin.at;
				pending.push(redis.stats().then((stats) => (begin.redis = stats)));
				return;
			}
			if (!begin || begin.end) return;
			lateness.push(latenessMs);
			if (performance.now() - startedAt >= sliceMs) {
				const end = { ...mark(), index: ticks };
				begin.end = end;
				pending.push(redis.stats().then((stats) => (end.redis = stats)));
				void Promise.all(pending).then(() => finish({ begin, end, lateness }));
			}
		},
		done,
	};
}

function sliceFigures({ begin, end, lateness }) {
	const ticks = end.index - begin.index;
	const byName = {};
	for (const [name, count] of Object.entries(end.sent.byName)) {
		const delta = count - (begin.sent.byName[name] ?? 0);
		if (delta > 0) byName[name] = delta;
	}
	return {
		ticks,
		sent: { commands: end.sent.commands - begin.sent.commands, trips: end.sent.trips - begin.sent.trips, byName },
		lateness,
		threadCpuUs: end.thread - begin.thread,
		processCpuUs: end.process - begin.process,
		redisBefore: begin.redis,
		redisAfter: end.redis,
	};
}

async function clusterSlice(redis, prefix, slice) {
	const { logger } = countingLogger();
	const tasks = new LoopController({
		logger,
		backend: bullmqBackend({ connection: redis.url, prefix, processId: 'p0' }),
	});
	await tasks.connect();
	const beat = tasks.loop({ name: 'beat', seconds: slice.intervalMs / 1000 }, () => {});
	const recorder = sliceRecorder(redis, slice);
	beat.on('iterationStarted', ({ latenessMs }) => recorder.tick(latenessMs));
	tasks.start('beat').catch(() => {});
	const result = await recorder.done;
	await tasks.close({ timeoutMs: 2000 });
	return sliceFigures(result);
}

async function bareSlice(redis, prefix, slice) {
	const connection = { host: '127.0.0.1', port: redis.port };
	let recorder;
	const queue = new Queue('beat', { connection, prefix });
	// The cluster backend's defaults, so that both pay the same stalled checks and lock renewals.
	const worker = new Worker(
		'beat',
		async (job) => {
			const instant = Number(job.id.slice(job.id.lastIndexOf(':') + 1));
			recorder.tick(Date.now() - instant);
		},
		{ connection, prefix, concurrency: 100, lockDuration: 10_000, stalledInterval: 5000, maxStalledCount: 1 },
	);
	await worker.waitUntilReady();
	recorder = sliceRecorder(redis, slice);
	await queue.upsertJobScheduler(
		'beat',
		{ every: slice.intervalMs },
		{ name: 'tick', opts: { removeOnComplete: true, removeOnFail: true } },
	);
	const result = await recorder.done;
	await queue.removeJobScheduler('beat');
	await worker.close();
	await queue.close();
	return sliceFigures(result);
}

/** Sums `{ name: count }` maps and divides by `ticks`, busiest first. */
function perTickByName(maps, ticks) {
	const sum = {};
	for (const map of maps) for (const [name, count] of Object.entries(map)) sum[name] = (sum[name] ?? 0) + count;
	return Object.fromEntries(
		Object.entries(sum)
			.map(([name, count]) => [name, count / ticks])
			.sort((a, b) => b[1] - a[1]),
	);
}

async function latenessPart() {
	const { intervalMs, sliceMs, rounds, warmupTicks, warmupMs } = p;
	const redis = await startRedis();
	try {
		const slices = { cluster: [], bare: [] };
		const subjects = { cluster: clusterSlice, bare: bareSlice };
		// One unmeasured turn each first: the code paths of both get compiled before anything is counted.
		for (const name of ['cluster', 'bare']) {
			await subjects[name](redis, `lat-${name}-warmup`, { intervalMs, sliceMs: warmupMs, warmupTicks });
		}
		for (let round = 0; round < rounds; round++) {
			const order = round % 2 === 0 ? ['cluster', 'bare'] : ['bare', 'cluster'];
			for (const name of order) {
				slices[name].push(await subjects[name](redis, `lat-${name}-${round}`, { intervalMs, sliceMs, warmupTicks }));
			}
		}
		const figures = {};
		for (const [name, list] of Object.entries(slices)) {
			const ticks = list.reduce((sum, each) => sum + each.ticks, 0);
			// Redis figures: the sum over the slices of each window's delta.
			const sum = { total: 0, cpuS: 0, commands: {} };
			for (const each of list) {
				const one = perTick(each.redisBefore, each.redisAfter, 1);
				sum.total += one.commandsPerTick;
				sum.cpuS += one.redisCpuUsPerTick;
				for (const [command, calls] of Object.entries(one.commands)) {
					sum.commands[command] = (sum.commands[command] ?? 0) + calls;
				}
			}
			figures[name] = {
				lateness: summarize(list.flatMap((each) => each.lateness)),
				ticks,
				threadCpuUsPerTick: list.reduce((s, each) => s + each.threadCpuUs, 0) / ticks,
				processCpuUsPerTick: list.reduce((s, each) => s + each.processCpuUs, 0) / ticks,
				commandsPerTick: sum.total / ticks,
				sentCommandsPerTick: list.reduce((s, each) => s + each.sent.commands, 0) / ticks,
				roundTripsPerTick: list.reduce((s, each) => s + each.sent.trips, 0) / ticks,
				sentByName: perTickByName(
					list.map((each) => each.sent.byName),
					ticks,
				),
				redisCpuUsPerTick: sum.cpuS / ticks,
				commands: Object.fromEntries(
					Object.entries(sum.commands)
						.map(([command, calls]) => [command, calls / ticks])
						.sort((a, b) => b[1] - a[1]),
				),
				perSlice: list.map((each) => ({
					ticks: each.ticks,
					p50: summarize(each.lateness).p50,
					threadCpuUsPerTick: each.threadCpuUs / each.ticks,
				})),
			};
		}
		report({ part: 'lateness', intervalMs, figures });
	} finally {
		await redis.stop();
	}
}

// ---- children (parts 'many' and 'failover') ----------------------------------------------------------------------

const here = fileURLToPath(import.meta.url);

/** Forks this file as a cluster process; resolves once it has connected and declared its loops. */
function spawnProcess(childParams, onMessage) {
	const child = fork(here, [JSON.stringify(childParams)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
	const ready = new Promise((resolve, reject) => {
		child.once('exit', (code, signal) => reject(new Error(`cluster process exited early (${code ?? signal})`)));
		child.on('message', (message) => {
			if (message.type === 'ready') resolve(child);
			else onMessage?.(message, child);
		});
	});
	return { child, ready };
}

/** Asks a child for a reply of `type` and waits for it. */
function ask(child, request, type) {
	return new Promise((resolve) => {
		const listener = (message) => {
			if (message.type !== type) return;
			child.off('message', listener);
			resolve(message);
		};
		child.on('message', listener);
		child.send(request);
	});
}

/** Closes the children (their own close()), then SIGKILLs any that has not exited within `ms`. */
async function endChildren(children, ms = 5000) {
	await Promise.all(
		children.map(
			(child) =>
				new Promise((resolve) => {
					if (child.exitCode !== null || child.signalCode !== null) return resolve();
					const timer = setTimeout(() => child.kill('SIGKILL'), ms);
					child.once('exit', () => {
						clearTimeout(timer);
						resolve();
					});
					if (child.connected) child.send({ type: 'close' });
					else child.kill('SIGKILL');
				}),
		),
	);
}

async function childProcess() {
	// The benchmark gone (killed, crashed): leave at once rather than retry a dead Redis for ever.
	process.on('disconnect', () => process.exit(0));
	const { said, logger } = countingLogger();
	const tasks = new LoopController({
		logger,
		closeTimeoutMs: 2000,
		backend: bullmqBackend({
			connection: p.url,
			prefix: p.prefix,
			processId: p.processId,
			...(p.backend ?? {}),
		}),
	});
	const names = [];
	if (p.part === 'many') {
		const records = { index: [], target: [], lateness: [] };
		for (let i = 0; i < p.loops; i++) {
			const name = `l${i}`;
			names.push(name);
			const each = tasks.loop({ name, seconds: p.intervalMs / 1000 }, () => {});
			each.on('iterationStarted', ({ target, latenessMs }) => {
				records.index.push(i);
				records.target.push(target.getTime());
				records.lateness.push(latenessMs);
			});
		}
		let cpu = 0;
		let cpuEnd = 0;
		let sentFrom = sentSoFar();
		let sentTo = sentFrom;
		process.on('message', (message) => {
			if (message.type === 'mark') {
				cpu = processCpuUs();
				sentFrom = sentSoFar();
			}
			if (message.type === 'markEnd') {
				cpuEnd = processCpuUs();
				sentTo = sentSoFar();
			}
			if (message.type === 'report') {
				const sent = { commands: sentTo.commands - sentFrom.commands, trips: sentTo.trips - sentFrom.trips };
				process.send({ type: 'records', records, cpuUs: cpuEnd - cpu, sent, said });
			}
		});
	} else {
		names.push('beat');
		const beat = tasks.loop({ name: 'beat', seconds: p.intervalMs / 1000 }, () => sleep(p.bodyMs));
		beat.on('iterationStarted', ({ target, iteration, latenessMs }) => {
			const tick = { at: sharedNowMs(), target: target.getTime(), iteration, latenessMs, processId: p.processId };
			process.send({ type: 'tick', ...tick });
		});
	}
	process.on('message', async (message) => {
		if (message.type === 'start') {
			for (const name of names) tasks.start(name).catch(() => {});
		}
		if (message.type === 'close') {
			await tasks.close({ timeoutMs: 2000 }).catch(() => {});
			process.exit(0);
		}
	});
	await tasks.connect();
	process.send({ type: 'ready' });
}

// ---- part 'many' ------------------------------------------------------------------------------------------------

async function manyPart() {
	const { loops, intervalMs, processes, warmupMs, durationMs, settleMs } = p;
	const redis = await startRedis();
	const children = [];
	try {
		const prefix = 'many';
		const spawned = Array.from({ length: processes }, (_, id) =>
			spawnProcess({ role: 'child', part: 'many', url: redis.url, prefix, processId: `p${id}`, loops, intervalMs }),
		);
		children.push(...spawned.map((each) => each.child));
		await Promise.all(spawned.map((each) => each.ready));
		const startedAt = Date.now();
		for (const child of children) child.send({ type: 'start' });
		await sleep(warmupMs);
		const from = Date.now();
		const before = await redis.stats();
		for (const child of children) child.send({ type: 'mark' });
		await sleep(durationMs);
		const to = Date.now();
		const after = await redis.stats();
		for (const child of children) child.send({ type: 'markEnd' });
		await sleep(settleMs);
		const replies = await Promise.all(children.map((child) => ask(child, { type: 'report' }, 'records')));

		// Every start of a tick whose target is in [from, to).
		const seen = new Map();
		const phase = new Map();
		const lateness = [];
		const firstTick = new Map();
		let starts = 0;
		const perProcess = [];
		for (const { records } of replies) {
			let mine = 0;
			for (let i = 0; i < records.index.length; i++) {
				const index = records.index[i];
				const target = records.target[i];
				if (!firstTick.has(index) || firstTick.get(index) > target) firstTick.set(index, target);
				if (target < from || target >= to) continue;
				mine++;
				starts++;
				phase.set(index, target % intervalMs);
				const key = `${index}:${target}`;
				seen.set(key, (seen.get(key) ?? 0) + 1);
				lateness.push(records.lateness[i]);
			}
			perProcess.push(mine);
		}
		// Expected: each loop's instants in the window, from its phase (all of its targets share it: anchored).
		let expected = 0;
		for (let index = 0; index < loops; index++) {
			const offset = phase.get(index);
			if (offset === undefined) {
				expected += Math.round((to - from) / intervalMs);
				continue;
			}
			const first = Math.ceil((from - offset) / intervalMs) * intervalMs + offset;
			expected += first < to ? Math.floor((to - 1 - first) / intervalMs) + 1 : 0;
		}
		const delivered = seen.size;
		const duplicates = starts - delivered;
		const firstTicks = [...firstTick.values()];
		const redisPerTick = perTick(before, after, delivered);
		report({
			part: 'many',
			loops,
			processes,
			windowMs: to - from,
			expected,
			delivered,
			duplicates,
			deliveredShare: delivered / expected,
			lateness: summarize(lateness),
			// From the start() calls to every loop's first tick (its target: the first tick is due at once).
			allStartedMs: firstTicks.length === loops ? Math.max(...firstTicks) - startedAt : Number.NaN,
			perProcess,
			...redisPerTick,
			commands: Object.fromEntries(Object.entries(redisPerTick.commands).sort((a, b) => b[1] - a[1])),
			processCpuUsPerTick: replies.reduce((sum, reply) => sum + reply.cpuUs, 0) / delivered,
			sentCommandsPerTick: replies.reduce((sum, reply) => sum + reply.sent.commands, 0) / delivered,
			roundTripsPerTick: replies.reduce((sum, reply) => sum + reply.sent.trips, 0) / delivered,
			said: replies.map((reply) => reply.said),
		});
	} finally {
		await endChildren(children);
		await redis.stop();
	}
}

// ---- part 'failover' --------------------------------------------------------------------------------------------

async function failoverPart() {
	const { intervalMs, bodyMs, kills, backend, timeoutMs } = p;
	const redis = await startRedis();
	const live = new Set();
	const all = [];
	const ticks = [];
	let waiter;
	const onMessage = (message, child) => {
		if (message.type !== 'tick') return;
		const tick = { ...message, child };
		ticks.push(tick);
		waiter?.(tick);
	};
	const nextTick = (accept, ms) =>
		new Promise((resolve) => {
			const timer = setTimeout(() => {
				waiter = undefined;
				resolve(undefined);
			}, ms);
			waiter = (tick) => {
				if (!accept(tick)) return;
				clearTimeout(timer);
				waiter = undefined;
				resolve(tick);
			};
		});
	let made = 0;
	const addProcess = async () => {
		const processId = `p${made++}`;
		const { child, ready } = spawnProcess(
			{ role: 'child', part: 'failover', url: redis.url, prefix: 'failover', processId, intervalMs, bodyMs, backend },
			onMessage,
		);
		all.push(child);
		await ready;
		live.add(child);
		child.once('exit', () => live.delete(child));
		return child;
	};
	try {
		await Promise.all([addProcess(), addProcess(), addProcess()]);
		for (const child of live) child.send({ type: 'start' });
		await nextTick(() => true, 10_000);
		await sleep(2 * intervalMs);
		const results = [];
		for (const { killAfterMs, label } of kills) {
			// The process that starts the next tick is the one killed, `killAfterMs` into that tick.
			const victim = await nextTick(() => true, 10_000);
			if (!victim) throw new Error('no tick to kill');
			await sleep(Math.max(0, victim.at + killAfterMs - sharedNowMs()));
			const killedAt = sharedNowMs();
			victim.child.kill('SIGKILL');
			const next = await nextTick((tick) => tick.child !== victim.child && tick.at > killedAt, timeoutMs);
			// Anything else started in the next interval: the killed tick run again?
			await sleep(intervalMs);
			const rerun = ticks.filter(
				(tick) => tick.at > killedAt && tick.target === victim.target && tick.child !== victim.child,
			).length;
			results.push({
				label,
				killAfterMs,
				recoveryMs: next ? next.at - killedAt : Number.NaN,
				// Slots between the killed tick and the next one that ran: none lost is 0.
				slotsSkipped: next ? Math.round((next.target - victim.target) / intervalMs) - 1 : Number.NaN,
				nextLatenessMs: next ? next.latenessMs : Number.NaN,
				rerun,
			});
			// A fresh process takes the killed one's place (it only declares the loop: the run is the cluster's).
			await addProcess();
			await sleep(2 * intervalMs);
		}
		const byTarget = new Map();
		for (const tick of ticks) byTarget.set(tick.target, (byTarget.get(tick.target) ?? 0) + 1);
		const span = ticks.length ? (ticks.at(-1).target - ticks[0].target) / intervalMs + 1 : 0;
		report({
			part: 'failover',
			intervalMs,
			bodyMs,
			backend,
			kills: results,
			ticks: byTarget.size,
			slots: span,
			duplicates: ticks.length - byTarget.size,
		});
	} finally {
		await endChildren(all);
		await redis.stop();
	}
}

// -----------------------------------------------------------------------------------------------------------------

if (p.role === 'child') await childProcess();
else if (p.part === 'lateness') await latenessPart();
else if (p.part === 'many') await manyPart();
else if (p.part === 'failover') await failoverPart();
else throw new Error(`unknown part '${p.part}'`);
