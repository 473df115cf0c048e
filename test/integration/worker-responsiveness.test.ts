import { performance } from 'node:perf_hooks';
import { loop, TaskPool } from 'discord-tasks';
import { describe, expect, test, vi } from 'vitest';
import { useCleanups } from '../helpers/cleanup.js';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);
const { track, defer } = useCleanups();

/** Burns CPU on the calling thread for `ms`. */
function burn(ms: number): void {
	const end = performance.now() + ms;
	while (performance.now() < end) {
		// Busy on purpose: this is the work a worker loop moves off the main thread.
	}
}

/** Starts a 10 ms interval on the main thread and returns a function reading the longest gap between its ticks. */
function watchEventLoop(): () => number {
	let last = performance.now();
	let longest = 0;
	const timer = setInterval(() => {
		const now = performance.now();
		longest = Math.max(longest, now - last);
		last = now;
	}, 10);
	defer(() => clearInterval(timer));
	return () => longest;
}

// The one real-time test: it shows the point of worker loops (behaviour), with bounds far from the measured values.
describe('the main thread while a loop burns CPU', () => {
	test('keeps its timers firing when the body runs in a worker, and stalls when it runs on the main thread', async () => {
		const pool = track(new TaskPool({ threads: 1 }), (each) => each.close());
		// Start the worker (and load the task) first, so the measurement sees only the iterations.
		const warmUp = track(loop({ count: 1, pool }, fixture('spin.mjs')), (each) => each[Symbol.asyncDispose]());
		await warmUp.start('burn', 0);

		const offThread = track(loop({ count: 2, pool }, fixture('spin.mjs')), (each) => each[Symbol.asyncDispose]());
		const completed = vi.fn();
		offThread.on('iterationCompleted', completed);
		const longestInWorkerRun = watchEventLoop();
		await offThread.start('burn', 300);
		const workerGap = longestInWorkerRun();

		const onThread = track(
			loop({ count: 1 }, () => burn(300)),
			(each) => each[Symbol.asyncDispose](),
		);
		const longestInMainRun = watchEventLoop();
		await onThread.start();
		await new Promise((resolve) => setTimeout(resolve, 20));
		const mainGap = longestInMainRun();

		expect(completed).toHaveBeenCalledTimes(2);
		expect(workerGap).toBeLessThan(100);
		expect(mainGap).toBeGreaterThanOrEqual(250);
	});
});
