import { type ChildProcess, fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { until, useCluster } from '../helpers/cluster.js';

// Real processes of one bot on one Redis: a process killed mid-tick, and the watchdog.

const { redis } = useCluster();
const SCRIPT = fileURLToPath(new URL('../fixtures/cluster/process.mjs', import.meta.url));

interface Event {
	readonly type: 'ready' | 'begin' | 'end' | 'before' | 'after' | 'stopped';
	readonly id: string;
	readonly target: number;
	readonly reason?: string;
	readonly pid: number;
}

let prefixes = 0;
function bot(size: number, loop: object, bodyMs: number, hooks: { beforeMs?: number; afterMs?: number } = {}) {
	const prefix = `proc${process.pid}x${++prefixes}`;
	const events: Event[] = [];
	const children = new Map<string, ChildProcess>();
	const all: ChildProcess[] = [];
	/** Starts process `id`: a new one, or one that replaces a dead one under the same processId. */
	const spawnProcess = (id: string) => {
		const child = fork(SCRIPT, {
			env: {
				...process.env,
				CLUSTER: JSON.stringify({
					url: redis().url,
					prefix,
					id,
					loop,
					bodyMs,
					...hooks,
					backend: { lockDurationMs: 1000, stalledIntervalMs: 500, watchdogMs: 300 },
				}),
			},
			stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
		});
		child.on('message', (message) => events.push(message as Event));
		children.set(id, child);
		all.push(child);
	};
	for (let index = 0; index < size; index++) spawnProcess(`p${index}`);
	const stop = async () => {
		for (const child of all) child.kill('SIGKILL');
	};
	return { prefix, events, children, spawnProcess, stop };
}

const begins = (events: readonly Event[]) => events.filter((event) => event.type === 'begin');

test('SIGKILL of the process running a tick: the survivors keep the schedule, and the killed tick is not run again (at-most-once)', async () => {
	const { events, children, stop } = bot(3, { seconds: 0.3 }, 200);
	try {
		await until(() => events.filter((event) => event.type === 'ready').length === 3, 15_000, 'three processes');
		await until(() => begins(events).length >= 3, 10_000, 'three ticks');
		// Kill the process in the middle of the next tick.
		const before = begins(events).length;
		await until(() => begins(events).length > before, 5000, 'a tick to begin');
		const victim = begins(events).at(-1) as Event;
		children.get(victim.id)?.kill('SIGKILL');
		await until(
			() => begins(events).some((event) => event.id !== victim.id && event.target > victim.target),
			10_000,
			'a survivor to run the next tick',
		);
		await until(() => begins(events).filter((event) => event.target > victim.target).length >= 4, 10_000);
		const targets = begins(events).map((event) => event.target);
		// No tick ran twice: the killed one is not re-run by stall recovery.
		expect(new Set(targets).size).toBe(targets.length);
		expect(begins(events).filter((event) => event.target === victim.target)).toHaveLength(1);
		// How long the failover takes is a figure of the benchmark (bench/cluster.mjs), not an assertion here.
	} finally {
		await stop();
	}
});

test("delivery: 'at-least-once' re-runs a tick whose process died mid-body, in another process", async () => {
	const { events, children, stop } = bot(2, { seconds: 0.3, delivery: 'at-least-once' }, 400);
	try {
		await until(() => begins(events).length >= 2, 15_000, 'two ticks');
		const before = begins(events).length;
		await until(() => begins(events).length > before, 5000, 'a tick to begin');
		const victim = begins(events).at(-1) as Event;
		children.get(victim.id)?.kill('SIGKILL');
		await until(
			() => begins(events).filter((event) => event.target === victim.target).length === 2,
			10_000,
			'the killed tick to run again',
		);
		const rerun = begins(events).filter((event) => event.target === victim.target)[1] as Event;
		expect(rerun.id).not.toBe(victim.id);
		await until(() => begins(events).some((event) => event.target > victim.target), 10_000, 'the schedule to go on');
	} finally {
		await stop();
	}
});

test('the watchdog repairs a chain whose next tick vanished (a process died between two steps)', async () => {
	const { prefix, events, stop } = bot(2, { seconds: 0.2 }, 0);
	try {
		await until(() => begins(events).length >= 2, 15_000, 'two ticks');
		// Delete the pending tick as a crash between "end" and "add the next tick" would leave the loop.
		let deleted = false;
		while (!deleted) {
			const job = (await redis().command('HGET', `${prefix}:loop:beat`, 'job')).split('\r\n')[1] ?? '';
			const phase = (await redis().command('HGET', `${prefix}:loop:beat`, 'phase')).split('\r\n')[1];
			if (phase === 'waiting' && job) {
				await redis().command('DEL', `${prefix}:loops:${job}`);
				await redis().command('ZREM', `${prefix}:loops:delayed`, job);
				deleted = true;
			}
		}
		const count = begins(events).length;
		await sleep(100);
		await until(() => begins(events).length >= count + 2, 10_000, 'the watchdog to re-add a tick');
	} finally {
		await stop();
	}
});

test('SIGKILL of the process running beforeLoop: a survivor runs the start-up again, and the run goes on', async () => {
	const { events, children, stop } = bot(2, { seconds: 0.2 }, 0, { beforeMs: 1500 });
	try {
		await until(() => events.some((event) => event.type === 'before'), 15_000, 'a process to begin beforeLoop');
		const starter = events.find((event) => event.type === 'before') as Event;
		children.get(starter.id)?.kill('SIGKILL');
		await until(
			() => events.some((event) => event.type === 'before' && event.id !== starter.id),
			10_000,
			'the survivor to take the start-up over',
		);
		await until(() => begins(events).length >= 2, 10_000, 'ticks after the adopted start-up');
		expect(begins(events).every((event) => event.id !== starter.id)).toBe(true);
	} finally {
		await stop();
	}
});

test('SIGKILL of the process running afterLoop: a survivor ends the run, which every process sees', async () => {
	const { events, children, stop } = bot(2, { seconds: 0.2, count: 2 }, 0, { afterMs: 60_000 });
	try {
		await until(() => events.some((event) => event.type === 'after'), 15_000, 'a process to begin afterLoop');
		const ender = events.find((event) => event.type === 'after') as Event;
		expect(events.some((event) => event.type === 'stopped')).toBe(false);
		children.get(ender.id)?.kill('SIGKILL');
		await until(
			() => events.some((event) => event.type === 'stopped' && event.id !== ender.id),
			10_000,
			'the survivor to end the run',
		);
		const stopped = events.find((event) => event.type === 'stopped') as Event;
		expect(stopped.reason).toBe('completed');
		// The run ends once: no second loopStopped comes (a late finish of a former owner is refused).
		await sleep(1500);
		expect(events.filter((event) => event.type === 'stopped')).toHaveLength(1);
		// afterLoop is not run again: hooks, like ticks, run at most once.
		expect(events.filter((event) => event.type === 'after')).toHaveLength(1);
	} finally {
		await stop();
	}
});

test('a process that died in beforeLoop is taken over even when its replacement reuses its processId', async () => {
	const { events, children, spawnProcess, stop } = bot(2, { seconds: 0.2 }, 0, { beforeMs: 1500 });
	try {
		await until(() => events.some((event) => event.type === 'before'), 15_000, 'a process to begin beforeLoop');
		const starter = events.find((event) => event.type === 'before') as Event;
		children.get(starter.id)?.kill('SIGKILL');
		// A respawned shard comes back under the same name at once, and renews its liveness before the old key expires.
		spawnProcess(starter.id);
		await until(
			() => events.some((event) => event.type === 'before' && event.pid !== starter.pid),
			10_000,
			'another process to take the start-up over',
		);
		await until(() => begins(events).length >= 2, 10_000, 'ticks after the adopted start-up');
	} finally {
		await stop();
	}
});
