// Benchmark 2: how long an incoming event waits on the main thread while a ~200 ms CPU job runs every 500 ms, in a
// discord-tasks worker loop, in a main-thread loop, or not at all (the baseline). One scenario per process.
//
// Events come from another process (bench/sender.mjs) over loopback TCP, stamped with CLOCK_MONOTONIC, which both
// processes share; latency = arrival − sent. monitorEventLoopDelay is recorded too, but its percentiles hide a
// blocked main thread (one late sample per block): its max is the figure that shows it.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loop, TaskPool } from 'discord-tasks';
import { burn, params, report, sharedNowMs, silentLogger, sleep } from './common.mjs';
import { summarize } from './stats.mjs';

const { scenario, durationMs, warmupMs, burnMs, periodMs } = params({
	scenario: 'none',
	durationMs: 5000,
	warmupMs: 500,
	burnMs: 200,
	periodMs: 500,
});
// 1 ms sampling, so that a stall of a few ms is seen at all; each sample is the whole interval, hence the − 1 ms.
const ELD_RESOLUTION_MS = 1;

const latencies = new Float64Array(Math.ceil(durationMs) + 10_000);
let count = 0;
let recording = false;
let negative = 0;
let pending = Buffer.alloc(0);

/** Frames are 8-byte send times; TCP may split or merge them, and a blocked thread gets many in one chunk. */
function onData(chunk) {
	const arrival = sharedNowMs();
	pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
	let offset = 0;
	for (; offset + 8 <= pending.length; offset += 8) {
		const latency = arrival - pending.readDoubleLE(offset);
		if (!recording || count === latencies.length) continue;
		if (latency < 0) negative += 1;
		latencies[count++] = latency;
	}
	pending = pending.subarray(offset);
}

async function startJob() {
	if (scenario === 'none') return async () => {};
	if (scenario === 'main') {
		const job = loop({ seconds: periodMs / 1000, logger: silentLogger, name: 'main-job' }, () => burn(burnMs));
		void job.start();
		return () => job[Symbol.asyncDispose]();
	}
	// A short grace period: stopping the job mid-burn then kills the worker at once instead of waiting a second.
	const pool = new TaskPool({ threads: 1, minThreads: 1, graceMs: 50 });
	const task = new URL('./tasks/burn.mjs', import.meta.url);
	// Start the worker and load the task first: the measurement is about the iterations, not the cold start.
	await loop({ count: 1, pool, logger: silentLogger }, task).start(0);
	const job = loop({ seconds: periodMs / 1000, pool, logger: silentLogger, name: 'worker-job' }, task);
	void job.start(burnMs);
	return async () => {
		await job[Symbol.asyncDispose]();
		// The cancelled iteration's worker is killed after the grace period. Closing before that makes piscina's
		// close() wait for its closeTimeout (30 s): it never sees a killed worker's task as done.
		await sleep(200);
		await pool.close();
	};
}

const server = createServer((socket) => {
	socket.setNoDelay(true);
	socket.on('data', onData);
	socket.on('error', () => {});
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const sender = spawn(process.execPath, [new URL('./sender.mjs', import.meta.url).pathname, server.address().port], {
	stdio: 'inherit',
});
// Listened for now: the sender may exit while the job is still being stopped.
const senderExited = new Promise((resolve) => sender.once('exit', resolve));
const connected = new Promise((resolve) => server.once('connection', resolve));
const stopJob = await startJob();
const socket = await connected;

await sleep(warmupMs);
const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
eld.enable();
recording = true;
await sleep(durationMs);
recording = false;
eld.disable();

socket.end();
await stopJob();
await senderExited;
server.close();

report({
	unit: 'ms',
	scenario,
	latency: { ...summarize(latencies, count), negative },
	eldMaxMs: eld.max / 1e6 - ELD_RESOLUTION_MS,
	eldP99Ms: eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS,
});
