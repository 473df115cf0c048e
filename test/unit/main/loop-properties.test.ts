import { describe, expect, test, vi } from 'vitest';
import {
	ErrorCode,
	InvalidOptionError,
	type Loop,
	type LoopEventMap,
	LoopState,
	LoopStateError,
	loop,
} from '../../../src/index.js';
import { advance, delay, elapsed, exactClock, flush, T0 } from '../../helpers/fake-time.js';
import { connectionReset, testLoop, useLoopTestTime } from '../../helpers/loops.js';
import { deferred, recordCalls } from '../../helpers/record-calls.js';
import { recordingLogger } from '../../helpers/recording-logger.js';

useLoopTestTime();

/** Calls `fn`, expects a LoopStateError with ERR_LOOP_ALREADY_RUNNING, and returns it. */
function alreadyRunning(fn: () => unknown): LoopStateError {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(LoopStateError);
		expect((error as LoopStateError).code).toBe(ErrorCode.LoopAlreadyRunning);
		return error as LoopStateError;
	}
	throw new Error('expected a LoopStateError, nothing was thrown');
}

describe('Loop#isRunning', () => {
	test('P1: is true in beforeLoop, the body, sleeps, the backoff, the error hook and afterLoop; false before and after', async () => {
		const seen: Record<string, boolean> = {};
		const calls = recordCalls((index) => {
			seen[`body ${index}`] = created.isRunning();
			if (index === 1) throw connectionReset();
			if (index === 3) throw new Error('the end');
		});
		const created: Loop<[]> = testLoop(
			{
				seconds: 10,
				beforeLoop: () => {
					seen['beforeLoop'] = created.isRunning();
				},
				onError: () => {
					seen['onError'] = created.isRunning();
				},
				afterLoop: () => {
					seen['afterLoop'] = created.isRunning();
				},
			},
			calls.body,
		);
		expect(created.isRunning()).toBe(false);
		const run = created.start();
		await advance(5_000);
		seen['sleep'] = created.isRunning();
		await advance(5_500);
		seen['backoff'] = created.isRunning();
		await advance(20_000);
		await expect(run).rejects.toThrow('the end');
		expect(created.isRunning()).toBe(false);
		expect(seen).toEqual({
			beforeLoop: true,
			'body 0': true,
			sleep: true,
			'body 1': true,
			backoff: true,
			'body 2': true,
			'body 3': true,
			onError: true,
			afterLoop: true,
		});
	});
});

describe('Loop#isBeingCancelled', () => {
	test('P2: is false right after cancel(), true inside afterLoop of the cancelled run, false after it', async () => {
		const inAfterLoop: boolean[] = [];
		const created: Loop<[]> = testLoop(
			{ seconds: 10, afterLoop: () => inAfterLoop.push(created.isBeingCancelled()) },
			async () => {},
		);
		const run = created.start();
		await advance(1_000);
		created.cancel();
		expect(created.isBeingCancelled()).toBe(false);
		await run;
		expect(inAfterLoop).toEqual([true]);
		expect(created.isBeingCancelled()).toBe(false);
	});

	test('P2: is false inside afterLoop of a completed, stopped or failed run', async () => {
		const inAfterLoop: boolean[] = [];
		const make = (options: { count?: number }, body: () => unknown): Loop<[]> => {
			const created: Loop<[]> = testLoop(
				{ seconds: 1, ...options, afterLoop: () => inAfterLoop.push(created.isBeingCancelled()) },
				body,
			);
			return created;
		};
		const completed = make({ count: 1 }, async () => {});
		const stopped = make({}, async () => {});
		const failed = make({}, () => {
			throw new Error('boom');
		});
		const runs = [completed.start(), stopped.start(), failed.start().catch(() => {})];
		stopped.stop();
		await advance(1_000);
		await Promise.all(runs);
		expect(inAfterLoop).toEqual([false, false, false]);
	});
});

describe('Loop#failed', () => {
	test('P3: is false at first, true from the error on (already in the error hook), kept after the run, reset by start()', async () => {
		let fail = true;
		const inHook: boolean[] = [];
		const created: Loop<[]> = testLoop({ seconds: 1, onError: () => inHook.push(created.failed()) }, () => {
			if (fail) throw new Error('boom');
		});
		expect(created.failed()).toBe(false);
		await Promise.all([expect(created.start()).rejects.toThrow('boom'), flush()]);
		expect(inHook).toEqual([true]);
		await advance(60_000);
		expect(created.failed()).toBe(true);
		fail = false;
		void created.start();
		expect(created.failed()).toBe(false);
	});
});

describe('Loop#signal', () => {
	test('P4 (deviation): there is no task object; signal is undefined before the first start() and stays the last run’s signal', async () => {
		const created = testLoop({ seconds: 1 }, async () => {});
		expect(created.signal).toBeUndefined();
		const first = created.start();
		const firstSignal = created.signal;
		expect(firstSignal?.aborted).toBe(false);
		await flush();
		created.cancel();
		await first;
		expect(created.signal).toBe(firstSignal);
		expect(firstSignal?.aborted).toBe(true);
		void created.start();
		expect(created.signal).not.toBe(firstSignal);
		expect(created.signal?.aborted).toBe(false);
	});
});

describe('Loop#currentLoop', () => {
	test('P5: is 0 before, between and after runs', async () => {
		const created = testLoop({ seconds: 1, count: 3 }, async () => {});
		expect(created.currentLoop).toBe(0);
		await Promise.all([created.start(), advance(3_000)]);
		expect(created.currentLoop).toBe(0);
		void created.start();
		expect(created.currentLoop).toBe(0);
		await advance(1_500);
		expect(created.currentLoop).toBe(1);
	});
});

describe('Loop#nextIteration', () => {
	test('P6: is null before start and during the first beforeLoop, then the next target, null once the run is over', async () => {
		const seen: (string | null)[] = [];
		const record = () => seen.push(created.nextIteration?.toISOString() ?? null);
		const created: Loop<[]> = testLoop({ seconds: 10, count: 2, beforeLoop: record, afterLoop: record }, record);
		record();
		const run = created.start();
		await advance(5_000);
		record();
		await advance(15_000);
		await run;
		record();
		expect(seen).toEqual([
			null, // before start
			null, // beforeLoop
			'2026-01-05T00:00:10.000Z', // first body
			'2026-01-05T00:00:10.000Z', // sleeping
			'2026-01-05T00:00:20.000Z', // second body
			'2026-01-05T00:00:20.000Z', // afterLoop: the last computed target
			null, // after the run
		]);
	});

	test('P6: is the upcoming slot while a time loop sleeps', async () => {
		const created = testLoop({ time: ['06:00', '18:00'] }, async () => {});
		void created.start();
		await advance(3_600_000);
		expect(created.nextIteration?.toISOString()).toBe('2026-01-05T06:00:00.000Z');
		await advance(6 * 3_600_000);
		expect(created.nextIteration?.toISOString()).toBe('2026-01-05T18:00:00.000Z');
	});

	test('P6: during the next run’s beforeLoop it still shows the previous run’s last target', async () => {
		const seen: (number | undefined)[] = [];
		const created: Loop<[]> = testLoop(
			{ seconds: 10, count: 1, beforeLoop: () => seen.push(created.nextIteration?.getTime()) },
			async () => {},
		);
		await Promise.all([created.start(), advance(10_000)]);
		void created.start();
		await flush();
		expect(seen).toEqual([undefined, T0 + 10_000]);
	});
});

describe('Loop getters', () => {
	test('P7: seconds, minutes, hours, time and cron describe the schedule', () => {
		const interval = loop({ seconds: 1, minutes: 2, hours: 3 }, async () => {});
		expect([interval.seconds, interval.minutes, interval.hours, interval.time, interval.cron]).toEqual([
			1,
			2,
			3,
			null,
			null,
		]);
		const cron = loop({ cron: '0 9 * * 1-5', timeZone: 'Europe/Berlin' }, async () => {});
		expect([cron.seconds, cron.minutes, cron.hours, cron.time, cron.cron]).toEqual([
			null,
			null,
			null,
			null,
			'0 9 * * 1-5',
		]);
	});
});

describe('Loop#start', () => {
	test('P8: returns a promise for the run', async () => {
		const created = testLoop({ count: 1, seconds: 1 }, async () => {});
		const run = created.start();
		expect(run).toBeInstanceOf(Promise);
		await advance(1_000);
		await expect(run).resolves.toBeUndefined();
	});

	test('P8: throws LoopStateError ERR_LOOP_ALREADY_RUNNING while a run is active (beforeLoop, body, sleep)', async () => {
		const created = testLoop({ seconds: 10, beforeLoop: () => delay(1_000) }, () => delay(1_000));
		void created.start();
		alreadyRunning(() => created.start());
		await advance(500);
		expect(created.state).toBe(LoopState.Starting);
		alreadyRunning(() => created.start());
		await advance(1_000);
		expect(created.state).toBe(LoopState.Running);
		alreadyRunning(() => created.start());
		await advance(1_000);
		expect(created.state).toBe(LoopState.Waiting);
		const error = alreadyRunning(() => created.start());
		expect(error.message).toContain(created.name);
	});

	test('P8 (deviation): inside afterLoop start() does not throw: the new run begins after the cleanup', async () => {
		const calls = recordCalls();
		let restarted: Promise<void> | undefined;
		const created: Loop<[]> = testLoop(
			{
				seconds: 1,
				count: 1,
				clock: exactClock,
				afterLoop: () => {
					restarted ??= created.start();
				},
			},
			calls.body,
		);
		void created.start();
		await advance(3_000);
		expect(restarted).toBeInstanceOf(Promise);
		expect(calls.times).toEqual([0, 1_000]);
		expect(created.isRunning()).toBe(false);
		await expect(restarted).resolves.toBeUndefined();
	});

	test('P8: after stop(), until the run reaches afterLoop, start() still throws (the run is not winding down yet)', async () => {
		const created = testLoop({ seconds: 10 }, async () => {});
		void created.start();
		await advance(1_000);
		created.stop();
		alreadyRunning(() => created.start());
	});

	test('P8 (deviation): a second start() while one is queued throws', async () => {
		const created = testLoop({ seconds: 1 }, async () => {});
		void created.start();
		await flush();
		created.cancel();
		void created.start();
		alreadyRunning(() => created.start());
	});

	test('P8: the promise of a queued start() settles with the run it starts', async () => {
		let fail = false;
		const created = testLoop({ seconds: 1 }, () => {
			if (fail) throw new Error('second run failed');
		});
		void created.start();
		await flush();
		created.cancel();
		fail = true;
		const queued = created.start();
		await Promise.all([expect(queued).rejects.toThrow('second run failed'), advance(10)]);
	});
});

describe('Loop#stop', () => {
	test('P9: has no effect when the loop is not running', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 1 }, calls.body);
		created.stop();
		void created.start();
		await advance(2_000);
		expect(calls.times).toEqual([0, 1_000, 2_000]);
	});
});

describe('Loop#cancel', () => {
	test('P10: has no effect when the loop is not running', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 1 }, calls.body);
		created.cancel();
		void created.start();
		await advance(1_000);
		expect(calls.times).toEqual([0, 1_000]);
	});

	test('P10: a second cancel() does not interrupt the afterLoop of a cancelled run', async () => {
		const afterLoopDone = vi.fn();
		const created: Loop<[]> = testLoop(
			{
				seconds: 10,
				afterLoop: async () => {
					created.cancel();
					await delay(500);
					afterLoopDone(created.isBeingCancelled());
				},
			},
			async () => {},
		);
		const run = created.start();
		await advance(1_000);
		created.cancel();
		await advance(500);
		await run;
		expect(afterLoopDone).toHaveBeenCalledExactlyOnceWith(true);
	});

	test('P10 (deviation): cancel() does not interrupt the afterLoop of a completed run either', async () => {
		const afterLoopDone = vi.fn();
		const created = testLoop(
			{
				seconds: 1,
				count: 1,
				afterLoop: async () => {
					await delay(500);
					afterLoopDone();
				},
			},
			async () => {},
		);
		const run = created.start();
		await advance(1_200);
		created.cancel();
		await advance(300);
		await run;
		expect(afterLoopDone).toHaveBeenCalledOnce();
		expect(created.isBeingCancelled()).toBe(false);
	});
});

describe('Loop#restart', () => {
	test("P11: restarts a running loop with new arguments and returns the new run's promise", async () => {
		const calls = recordCalls<[number]>();
		const created = testLoop({ seconds: 10, count: 2 }, calls.body);
		const first = created.start(1);
		await advance(1_000);
		const second = created.restart(2);
		expect(second).not.toBe(first);
		let settled = false;
		void second.then(() => (settled = true));
		await advance(10);
		expect(calls.args).toEqual([[1], [2]]);
		expect(settled).toBe(false);
		await advance(20_000);
		expect(settled).toBe(true);
		expect(calls.args).toEqual([[1], [2], [2]]);
	});

	test('P11: a failing new run rejects the promise restart() returned', async () => {
		const created = testLoop({ seconds: 10 }, (fail: boolean) => {
			if (fail) throw new Error('new run failed');
		});
		created.onError(() => {});
		void created.start(false);
		await advance(1_000);
		const restarted = created.restart(true);
		await advance(10);
		await expect(restarted).rejects.toThrow('new run failed');
	});
});

describe('hook setters', () => {
	test.each(['beforeLoop', 'afterLoop', 'onError'] as const)('P12: %s() refuses a non-function', (hook) => {
		const created = loop({}, async () => {});
		let caught: unknown;
		try {
			created[hook]('not a function' as never);
		} catch (error) {
			caught = error;
		}
		expect(caught).toBeInstanceOf(InvalidOptionError);
		expect((caught as InvalidOptionError).option).toBe(hook);
	});

	test('P12 (deviation): the setters replace the previous hook (also one given as option) and return the loop', async () => {
		const fromOption = vi.fn();
		const replaced = vi.fn();
		const used = vi.fn();
		const created = testLoop({ count: 1, seconds: 1, beforeLoop: fromOption, afterLoop: fromOption }, async () => {});
		expect(created.beforeLoop(replaced)).toBe(created);
		expect(created.beforeLoop(used)).toBe(created);
		expect(created.afterLoop(used)).toBe(created);
		await Promise.all([created.start(), advance(1_000)]);
		expect(fromOption).not.toHaveBeenCalled();
		expect(replaced).not.toHaveBeenCalled();
		expect(used).toHaveBeenCalledTimes(2);
	});

	test('P12: beforeLoop and afterLoop are called without arguments, onError with the error and the loop', async () => {
		const beforeLoop = vi.fn();
		const afterLoop = vi.fn();
		const onError = vi.fn();
		const boom = new Error('boom');
		const created = testLoop({}, (_channelId: string) => {
			throw boom;
		})
			.beforeLoop(beforeLoop)
			.afterLoop(afterLoop)
			.onError(onError);
		await Promise.all([expect(created.start('123')).rejects.toBe(boom), flush()]);
		expect(beforeLoop).toHaveBeenCalledExactlyOnceWith();
		expect(afterLoop).toHaveBeenCalledExactlyOnceWith();
		expect(onError).toHaveBeenCalledExactlyOnceWith(boom, created);
	});

	test('P12: the hooks may be synchronous or asynchronous, and async ones are awaited', async () => {
		const order: string[] = [];
		const created = testLoop(
			{
				count: 1,
				seconds: 1,
				clock: exactClock,
				beforeLoop: async () => {
					await delay(100);
					order.push(`beforeLoop done at ${elapsed()}`);
				},
				afterLoop: () => {
					order.push(`afterLoop at ${elapsed()}`);
				},
			},
			() => {
				order.push(`body at ${elapsed()}`);
			},
		);
		await Promise.all([created.start(), advance(2_000)]);
		expect(order).toEqual(['beforeLoop done at 100', 'body at 100', 'afterLoop at 1100']);
	});
});

describe('Loop#state', () => {
	test('reports idle, starting, running, waiting, retrying and ending at the matching moments', async () => {
		const seen: string[] = [];
		const calls = recordCalls(async (index) => {
			seen.push(`body: ${created.state}`);
			if (index === 1) throw connectionReset();
			await delay(100);
		});
		const created: Loop<[]> = testLoop(
			{
				seconds: 10,
				count: 2,
				beforeLoop: () => {
					seen.push(`beforeLoop: ${created.state}`);
				},
				afterLoop: () => {
					seen.push(`afterLoop: ${created.state}`);
				},
			},
			calls.body,
		);
		seen.push(`before: ${created.state}`);
		const run = created.start();
		await advance(5_000);
		seen.push(`sleep: ${created.state}`);
		await advance(5_500);
		seen.push(`backoff: ${created.state}`);
		await advance(20_000);
		await run;
		seen.push(`after: ${created.state}`);
		expect(seen).toEqual([
			`before: ${LoopState.Idle}`,
			`beforeLoop: ${LoopState.Starting}`,
			`body: ${LoopState.Running}`,
			`sleep: ${LoopState.Waiting}`,
			`body: ${LoopState.Running}`,
			`backoff: ${LoopState.Retrying}`,
			`body: ${LoopState.Running}`,
			`afterLoop: ${LoopState.Ending}`,
			`after: ${LoopState.Idle}`,
		]);
	});
});

describe('Loop events', () => {
	test('loopStarted, iterationStarted, iterationCompleted and loopStopped fire with their payloads', async () => {
		const events: unknown[] = [];
		let index = 0;
		const created = testLoop({ seconds: 1, count: 2 }, async () => {
			await delay(200);
			return `result ${index++}`;
		});
		created.on('loopStarted', (...args) => events.push(['loopStarted', ...args]));
		created.on('iterationStarted', (info) => events.push(['iterationStarted', info]));
		created.on('iterationCompleted', (info) => events.push(['iterationCompleted', info]));
		created.on('loopStopped', (info) => events.push(['loopStopped', info]));
		await Promise.all([created.start(), advance(2_000)]);
		expect(events).toEqual([
			['loopStarted'],
			['iterationStarted', { iteration: 0, target: new Date(T0), retry: false, latenessMs: 0 }],
			['iterationCompleted', { iteration: 0, durationMs: 200, result: 'result 0' }],
			['iterationStarted', { iteration: 1, target: new Date(T0 + 1_000), retry: false, latenessMs: 0 }],
			['iterationCompleted', { iteration: 1, durationMs: 200, result: 'result 1' }],
			['loopStopped', { reason: 'completed' }],
		]);
	});

	test('iterationStarted marks a retry and keeps the failed attempt’s target', async () => {
		const started: LoopEventMap['iterationStarted'][0][] = [];
		const calls = recordCalls((i) => {
			if (i === 1) throw connectionReset();
		});
		const created = testLoop({ seconds: 10 }, calls.body);
		created.on('iterationStarted', (info) => started.push(info));
		void created.start();
		await advance(11_000);
		expect(started).toEqual([
			{ iteration: 0, target: new Date(T0), retry: false, latenessMs: 0 },
			{ iteration: 1, target: new Date(T0 + 10_000), retry: false, latenessMs: 0 },
			// A retry stands for the failed attempt's target: its lateness is the backoff delay.
			{ iteration: 1, target: new Date(T0 + 10_000), retry: true, latenessMs: 1_000 },
		]);
	});

	test('loopStopped reports stopped and cancelled runs', async () => {
		const reasons: string[] = [];
		const created = testLoop({ seconds: 1 }, async () => {});
		created.on('loopStopped', ({ reason }) => reasons.push(reason));
		const stopped = created.start();
		created.stop();
		await Promise.all([stopped, flush()]);
		const cancelled = created.start();
		await flush();
		created.cancel();
		await cancelled;
		expect(reasons).toEqual(['stopped', 'cancelled']);
	});

	test('off() removes a listener', async () => {
		const listener = vi.fn();
		const created = testLoop({ seconds: 1, count: 2 }, async () => {});
		created.on('iterationStarted', listener);
		expect(created.off('iterationStarted', listener)).toBe(created);
		await Promise.all([created.start(), advance(2_000)]);
		expect(listener).not.toHaveBeenCalled();
	});

	test('a throwing listener is logged and does not disturb the loop', async () => {
		const logger = recordingLogger();
		const oops = new Error('listener bug');
		const calls = recordCalls();
		const created = testLoop({ seconds: 1, count: 2, name: 'ticker', logger }, calls.body);
		created.on('iterationStarted', () => {
			throw oops;
		});
		await Promise.all([created.start(), advance(2_000)]);
		expect(calls.times).toEqual([0, 1_000]);
		expect(logger.error).toHaveBeenCalledWith("A 'iterationStarted' listener of loop 'ticker' threw", oops);
		expect(logger.error).toHaveBeenCalledTimes(2);
	});
});

describe('Loop#[Symbol.asyncDispose]', () => {
	test('cancels the run, drops a queued start and resolves when the run has ended', async () => {
		const afterLoop = vi.fn();
		const calls = recordCalls();
		const created = testLoop({ seconds: 1, afterLoop }, calls.body);
		void created.start();
		await flush();
		created.cancel();
		void created.start();
		await created[Symbol.asyncDispose]();
		await advance(5_000);
		expect(afterLoop).toHaveBeenCalledOnce();
		expect(calls.times).toEqual([0]);
		expect(created.isRunning()).toBe(false);
	});

	test('does not wait for a body that ignores the cancellation', async () => {
		const body = deferred();
		const created = testLoop({}, () => body.promise);
		void created.start();
		await flush();
		await created[Symbol.asyncDispose]();
		expect(created.isRunning()).toBe(false);
	});
});
