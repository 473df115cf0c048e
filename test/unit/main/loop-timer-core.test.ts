import { describe, expect, test, vi } from 'vitest';
import { type Loop, loop } from '../../../src/index.js';
import { advance, delay, elapsed, flush, T0 } from '../../helpers/fake-time.js';
import { testLoop, useLoopTestTime } from '../../helpers/loops.js';

useLoopTestTime();

describe('Loop on the system clock (the shared timer core)', () => {
	test('100,000 sleeping loops hold one timer between them; each fires on its grid, and cancel() leaves no timer', async () => {
		const count = 100_000;
		const firings = new Uint8Array(count);
		const loops: Loop<[]>[] = [];
		const logger = { warn: () => {}, error: () => {} };
		for (let i = 0; i < count; i++) {
			// loop() rather than testLoop(): one shared logger instead of two mocks per loop.
			loops.push(
				loop({ seconds: 10, name: `guild-${i}`, logger }, () => {
					firings[i] = (firings[i] as number) + 1;
				}),
			);
		}
		for (const each of loops) void each.start();
		await flush();
		await flush();
		expect(firings.every((n) => n === 1)).toBe(true);
		expect(vi.getTimerCount()).toBe(1);
		await advance(10_000);
		expect(firings.every((n) => n === 2)).toBe(true);
		expect(loops.every((each) => each.nextIteration?.getTime() === T0 + 20_000)).toBe(true);
		for (const each of loops) each.cancel();
		expect(vi.getTimerCount()).toBe(0);
		await flush();
		expect(loops.some((each) => each.isRunning())).toBe(false);
		await advance(60_000);
		expect(firings.every((n) => n === 2)).toBe(true);
	}, 60_000);

	test('never runs a body before its target on Date.now(), with a fractional jitter', async () => {
		const early: number[] = [];
		const created = testLoop({ seconds: 1, jitterMs: 700, random: () => 0.37 }, () => {});
		created.on('iterationStarted', ({ target }) => {
			if (target === null || Date.now() < target.getTime()) early.push(Date.now());
		});
		const starts: number[] = [];
		created.on('iterationStarted', () => starts.push(elapsed()));
		void created.start();
		await advance(5_000);
		expect(early).toEqual([]);
		// target k s + 259 ms of jitter (0.37 × 700): the core waits for the first whole millisecond after it.
		expect(starts).toEqual([0, 1_259, 2_259, 3_259, 4_259]);
	});

	test('an interval loop anchors its grid where its first body ran, after the start-up yield', async () => {
		const starts: number[] = [];
		// A loop started just before holds the thread for 50 ms (the wall clock moves) before the second one's first
		// body can run: with thousands of loops starting at once, first bodies run late, and must not skip a target.
		const busy = testLoop({ seconds: 10, count: 1 }, () => vi.setSystemTime(Date.now() + 50));
		const created = testLoop({ seconds: 1 }, () => starts.push(elapsed()));
		void busy.start();
		void created.start();
		await advance(2_100);
		expect(starts).toEqual([50, 1_050, 2_050]);
	});

	test('loops of different intervals interleave in order of their targets', async () => {
		const order: string[] = [];
		const fast = testLoop({ seconds: 2, count: 3 }, () => order.push(`fast@${elapsed()}`));
		const slow = testLoop({ seconds: 3, count: 2 }, () => order.push(`slow@${elapsed()}`));
		void fast.start();
		void slow.start();
		await advance(6_000);
		expect(order).toEqual(['fast@0', 'slow@0', 'fast@2000', 'slow@3000', 'fast@4000']);
	});

	test('an asynchronous body keeps its await: the next sleep starts when it settles, anchored to the target', async () => {
		const starts: number[] = [];
		const created = testLoop({ seconds: 1 }, async () => {
			starts.push(elapsed());
			await delay(300);
		});
		void created.start();
		await advance(3_000);
		expect(starts).toEqual([0, 1_000, 2_000, 3_000]);
		expect(vi.getTimerCount()).toBeLessThanOrEqual(2);
	});
});
