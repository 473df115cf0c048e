import { describe, expect, test } from 'vitest';
import { ErrorCode, LoopController, type LoopStateError } from '../../../src/index.js';
import { advance } from '../../helpers/fake-time.js';
import { useLoopTestTime } from '../../helpers/loops.js';
import { recordingLogger } from '../../helpers/recording-logger.js';

useLoopTestTime();

/** A controller with one main-thread loop, `tick`, that records its arguments once a second. */
function controllerWithTick(count: number | null = null) {
	const tasks = new LoopController();
	const calls: unknown[][] = [];
	const tick = tasks.loop({ name: 'tick', seconds: 1, count, logger: recordingLogger() }, (...args: unknown[]) => {
		calls.push(args);
		if (args[0] === 'fail') throw new Error('boom');
	});
	return { tasks, tick, calls };
}

describe('LoopController#start', () => {
	test('is idempotent after loop.start(): it returns a promise of the running run instead of throwing', async () => {
		const { tasks, tick, calls } = controllerWithTick();
		const direct = tick.start('a');
		const viaController = tasks.start('tick', 'b');
		expect(tasks.start('tick', 'c')).toBe(viaController);

		await advance(2_500);
		expect(calls).toEqual([['a'], ['a'], ['a']]);
		tick.stop();
		await advance(1_000);
		await expect(viaController).resolves.toBeUndefined();
		await expect(direct).resolves.toBeUndefined();
	});

	test('the promise of a run started with loop.start() rejects with the error that ended it', async () => {
		const { tasks, tick } = controllerWithTick();
		tick.onError(() => {});
		void tick.start('fail');
		const run = tasks.start('tick');
		await advance(10);
		await expect(run).rejects.toThrow('boom');
	});

	test('after a run has ended, start() begins a new run and never returns the old, settled promise', async () => {
		const { tasks, tick, calls } = controllerWithTick(1);
		const first = tasks.start('tick', 'first');
		await advance(1_000);
		await first;
		void tick.start('second');
		const second = tasks.start('tick', 'ignored');
		expect(second).not.toBe(first);
		let settled = false;
		void second.then(() => (settled = true));
		await advance(10);
		expect(settled).toBe(false);
		await advance(1_000);
		expect(settled).toBe(true);
		expect(calls).toEqual([['first'], ['second']]);
	});

	test('still throws for a name it does not know', () => {
		const { tasks } = controllerWithTick();
		expect(() => tasks.start('tock')).toThrow(expect.objectContaining({ code: ErrorCode.LoopNotFound }));
		let error: LoopStateError | undefined;
		try {
			void tasks.start('tock');
		} catch (caught) {
			error = caught as LoopStateError;
		}
		expect(error?.message).toContain('tick');
	});
});

describe('LoopController#restart', () => {
	test("returns the new run's promise, which a later start(name) also returns", async () => {
		const { tasks, calls } = controllerWithTick();
		void tasks.start('tick', 'old');
		await advance(10);
		const restarted = tasks.restart('tick', 'new');
		expect(tasks.start('tick', 'ignored')).toBe(restarted);
		await advance(1_500);
		expect(calls).toEqual([['old'], ['new'], ['new']]);
		tasks.stop('tick');
		await advance(1_000);
		await expect(restarted).resolves.toBeUndefined();
	});

	test('resolves at once and starts nothing when the loop is not running', async () => {
		const { tasks, tick, calls } = controllerWithTick();
		await expect(tasks.restart('tick', 'x')).resolves.toBeUndefined();
		await advance(1_000);
		expect(tick.isRunning()).toBe(false);
		expect(calls).toEqual([]);
	});
});
