import { setImmediate as realImmediate } from 'node:timers/promises';
import { describe, expect, test, vi } from 'vitest';
import { DEFAULT_LOOP_OPTIONS, type Loop, type LoopEndReason } from '../../../src/index.js';
import { advance, delay, elapsed, exactClock, flush, T0 } from '../../helpers/fake-time.js';
import { captureUnhandledRejections, connectionReset, testLoop, useLoopTestTime } from '../../helpers/loops.js';
import { deferred, recordCalls } from '../../helpers/record-calls.js';
import { recordingLogger } from '../../helpers/recording-logger.js';

useLoopTestTime();

/** Records the reason of every run that ends. */
function endReasons(target: Loop<[]>): LoopEndReason[] {
	const reasons: LoopEndReason[] = [];
	target.on('loopStopped', ({ reason }) => reasons.push(reason));
	return reasons;
}

describe('Loop#start', () => {
	test('A1: runs nothing synchronously, yet isRunning() is already true when it returns', async () => {
		const beforeLoop = vi.fn();
		const calls = recordCalls();
		const created = testLoop({ seconds: 1, beforeLoop }, calls.body);
		void created.start();
		expect(beforeLoop).not.toHaveBeenCalled();
		expect(calls.times).toEqual([]);
		expect(created.isRunning()).toBe(true);
		await flush();
		expect(beforeLoop).toHaveBeenCalledOnce();
		expect(calls.times).toEqual([0]);
	});

	test('A2: every run gets a fresh backoff: the first retry of a new run waits as little as the first ever', async () => {
		const logger = recordingLogger();
		const failing = new Set([0, 1, 3]);
		const calls = recordCalls((index) => {
			if (failing.has(index)) throw connectionReset();
		});
		const created = testLoop({ seconds: 1, count: 1, logger }, calls.body);
		const first = created.start();
		await advance(10_000);
		await first;
		void created.start();
		await advance(2_000);
		expect(logger.warn.mock.calls.map(([message]) => message.slice(-5))).toEqual(['1.00s', '2.00s', '1.00s']);
	});
});

describe('beforeLoop', () => {
	test('A3 (deviation): an error goes to the error hook, failed() becomes true, afterLoop is skipped, start() rejects', async () => {
		const boom = new Error('not ready');
		const failedInHook: boolean[] = [];
		const onError = vi.fn(() => {
			failedInHook.push(created.failed());
		});
		const afterLoop = vi.fn();
		const calls = recordCalls();
		const created: Loop<[]> = testLoop(
			{
				seconds: 1,
				beforeLoop: () => {
					throw boom;
				},
				afterLoop,
				onError,
			},
			calls.body,
		);
		const run = created.start();
		await expect(run).rejects.toBe(boom);
		expect(onError).toHaveBeenCalledExactlyOnceWith(boom, created);
		expect(failedInHook).toEqual([true]);
		expect(created.failed()).toBe(true);
		expect(afterLoop).not.toHaveBeenCalled();
		expect(calls.times).toEqual([]);
		expect(created.isRunning()).toBe(false);
	});

	test('A3 (deviation): a rejected beforeLoop is logged by the default error hook', async () => {
		const logger = recordingLogger();
		const boom = new Error('not ready');
		async function poll() {}
		const created = testLoop({ logger, beforeLoop: () => Promise.reject(boom) }, poll);
		await expect(created.start()).rejects.toBe(boom);
		expect(logger.error).toHaveBeenCalledExactlyOnceWith("Unhandled exception in loop 'poll'", boom);
	});

	test('A3: cancel() while beforeLoop is awaiting ends the run without afterLoop and without isBeingCancelled()', async () => {
		const afterLoop = vi.fn();
		const cancelledFlags: boolean[] = [];
		const calls = recordCalls();
		const created = testLoop({ seconds: 1, beforeLoop: () => delay(5_000), afterLoop }, calls.body);
		created.on('loopStopped', () => cancelledFlags.push(created.isBeingCancelled()));
		const run = created.start();
		await advance(1_000);
		created.cancel();
		cancelledFlags.push(created.isBeingCancelled());
		await flush();
		await expect(run).resolves.toBeUndefined();
		expect(afterLoop).not.toHaveBeenCalled();
		expect(cancelledFlags).toEqual([false, false]);
		expect(calls.times).toEqual([]);
		expect(created.isRunning()).toBe(false);
	});

	test('A4: the first target of an interval loop is the moment beforeLoop finished', async () => {
		const calls = recordCalls();
		void testLoop({ seconds: 1, beforeLoop: () => delay(5_000), clock: exactClock }, calls.body).start();
		await advance(7_000);
		expect(calls.times).toEqual([5_000, 6_000, 7_000]);
	});

	test('A4: the mode is read after beforeLoop: changeInterval({ time }) there makes the loop wait for the slot', async () => {
		const calls = recordCalls();
		const created: Loop<[]> = testLoop(
			{
				seconds: 1,
				beforeLoop: () => {
					created.changeInterval({ time: '06:00' });
				},
			},
			calls.body,
		);
		void created.start();
		await advance(6 * 3_600_000 - 1);
		expect(calls.times).toEqual([]);
		await advance(1);
		expect(calls.times).toEqual([6 * 3_600_000]);
	});

	test('A5: cancel() inside beforeLoop of an interval loop prevents the first body and skips afterLoop', async () => {
		const afterLoop = vi.fn();
		const calls = recordCalls();
		const created: Loop<[]> = testLoop({ seconds: 1, beforeLoop: () => created.cancel(), afterLoop }, calls.body);
		const reasons = endReasons(created);
		await Promise.all([created.start(), advance(5_000)]);
		expect(calls.times).toEqual([]);
		expect(afterLoop).not.toHaveBeenCalled();
		expect(reasons).toEqual(['cancelled']);
	});

	test('A5: cancel() inside beforeLoop of a time loop runs afterLoop with isBeingCancelled() true', async () => {
		const cancelledInAfterLoop: boolean[] = [];
		const calls = recordCalls();
		const created: Loop<[]> = testLoop(
			{
				time: '06:00',
				beforeLoop: () => created.cancel(),
				afterLoop: () => {
					cancelledInAfterLoop.push(created.isBeingCancelled());
				},
			},
			calls.body,
		);
		await Promise.all([created.start(), flush()]);
		expect(calls.times).toEqual([]);
		expect(cancelledInAfterLoop).toEqual([true]);
		expect(elapsed()).toBe(0);
	});

	test('A6: stop() inside beforeLoop runs zero iterations, but afterLoop still runs', async () => {
		const afterLoop = vi.fn();
		const calls = recordCalls();
		const created: Loop<[]> = testLoop({ seconds: 1, beforeLoop: () => created.stop(), afterLoop }, calls.body);
		const reasons = endReasons(created);
		await Promise.all([created.start(), advance(3_000)]);
		expect(calls.times).toEqual([]);
		expect(afterLoop).toHaveBeenCalledOnce();
		expect(reasons).toEqual(['stopped']);
	});

	test('A6: stop() right after start() runs zero iterations, but afterLoop still runs', async () => {
		const afterLoop = vi.fn();
		const calls = recordCalls();
		const created = testLoop({ seconds: 1, afterLoop }, calls.body);
		const run = created.start();
		created.stop();
		await flush();
		await expect(run).resolves.toBeUndefined();
		expect(calls.times).toEqual([]);
		expect(afterLoop).toHaveBeenCalledOnce();
	});
});

describe('an iteration', () => {
	test('A7: every body call gets the arguments given to start(); the hooks get none', async () => {
		const beforeLoop = vi.fn();
		const afterLoop = vi.fn();
		const calls = recordCalls<[string, number]>();
		const created = testLoop({ seconds: 1, count: 3, beforeLoop, afterLoop }, calls.body);
		await Promise.all([created.start('123', 7), advance(3_000)]);
		expect(calls.args).toEqual([
			['123', 7],
			['123', 7],
			['123', 7],
		]);
		expect(beforeLoop).toHaveBeenCalledWith();
		expect(afterLoop).toHaveBeenCalledWith();
	});

	test('A7: a failed attempt is retried with the same arguments, without counting it', async () => {
		const calls = recordCalls<[string]>((index) => {
			if (index === 1) throw connectionReset();
		});
		const created = testLoop({ seconds: 1, count: 2 }, calls.body);
		const iterations: number[] = [];
		created.on('iterationStarted', ({ iteration }) => iterations.push(iteration));
		await Promise.all([created.start('x'), advance(5_000)]);
		expect(calls.args).toEqual([['x'], ['x'], ['x']]);
		expect(iterations).toEqual([0, 1, 1]);
	});

	test('A8: a target already in the past adds no delay: the late iteration starts as the previous one ends', async () => {
		const calls = recordCalls(async (index) => {
			if (index === 0) await delay(1_500);
		});
		void testLoop({ seconds: 1, missedIterations: 'catchUp', clock: exactClock }, calls.body).start();
		await advance(2_000);
		expect(calls.times).toEqual([0, 1_500, 2_000]);
	});

	test('A8: a cancelled sleep leaves no timer behind', async () => {
		const created = testLoop({ hours: 1 }, async () => {});
		const run = created.start();
		await flush();
		expect(vi.getTimerCount()).toBe(1);
		created.cancel();
		await run;
		expect(vi.getTimerCount()).toBe(0);
	});
});

describe('missed iterations of an interval loop', () => {
	test("A9 (deviation): missedIterations defaults to 'skip'", () => {
		expect(DEFAULT_LOOP_OPTIONS.missedIterations).toBe('skip');
	});

	test("A9: with missedIterations 'catchUp' the spec example bursts: 0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.2, 1.4", async () => {
		const calls = recordCalls(async (index) => {
			if (index < 2) await delay(500);
		});
		const created = testLoop({ seconds: 0.2, count: 8, missedIterations: 'catchUp', clock: exactClock }, calls.body);
		await Promise.all([created.start(), advance(2_000)]);
		expect(calls.times).toEqual([0, 500, 1_000, 1_000, 1_000, 1_000, 1_200, 1_400]);
	});

	test('A9 (deviation): by default an overrun is followed by one late run, then the loop is back on its grid', async () => {
		const calls = recordCalls(async (index) => {
			if (index < 2) await delay(500);
		});
		const created = testLoop({ seconds: 0.2, count: 8, clock: exactClock }, calls.body);
		await Promise.all([created.start(), advance(3_000)]);
		expect(calls.times).toEqual([0, 500, 1_000, 1_200, 1_400, 1_600, 1_800, 2_000]);
	});

	test('A9 (deviation): skipping keeps the phase of the first target', async () => {
		const calls = recordCalls(async (index) => {
			if (index === 0) await delay(2_500);
		});
		void testLoop({ seconds: 1, clock: exactClock }, calls.body).start();
		await advance(5_000);
		expect(calls.times).toEqual([0, 2_500, 3_000, 4_000, 5_000]);
	});

	test('A9: targets are anchored, so iterations that take time do not make the loop drift', async () => {
		const calls = recordCalls(() => delay(300));
		void testLoop({ seconds: 1 }, calls.body).start();
		await advance(4_000);
		expect(calls.times).toEqual([0, 1_000, 2_000, 3_000, 4_000]);
	});

	test('A9: during the first body nextIteration is the first target plus the interval', async () => {
		const seen: (number | undefined)[] = [];
		const created: Loop<[]> = testLoop({ seconds: 5 }, () => {
			seen.push(created.nextIteration?.getTime());
		});
		void created.start();
		await flush();
		expect(seen).toEqual([T0 + 5_000]);
	});
});

describe('a time loop', () => {
	test('A10: does not catch up: after an overrun it runs once, late, and skips the other missed slots', async () => {
		const calls = recordCalls(async (index) => {
			if (index === 0) await delay(18_000);
		});
		const created = testLoop(
			{ time: ['00:00:05', '00:00:10', '00:00:15', '00:00:20', '00:00:30'], clock: exactClock },
			calls.body,
		);
		void created.start();
		await advance(60_000);
		expect(calls.times).toEqual([5_000, 23_000, 30_000]);
	});
});

describe('count', () => {
	test('A11: only successful iterations count', async () => {
		const calls = recordCalls((index) => {
			if (index === 1) throw connectionReset();
		});
		const created = testLoop({ seconds: 1, count: 2 }, calls.body);
		await Promise.all([created.start(), advance(5_000)]);
		expect(calls.times).toEqual([0, 1_000, 2_000]);
	});

	test('A11: inside body k currentLoop is k, and it stays k during the sleep after it', async () => {
		const inBody: number[] = [];
		const created: Loop<[]> = testLoop({ seconds: 1, count: 3 }, () => {
			inBody.push(created.currentLoop);
		});
		void created.start();
		await advance(500);
		const duringFirstSleep = created.currentLoop;
		await advance(1_000);
		expect(inBody).toEqual([0, 1]);
		expect(duringFirstSleep).toBe(0);
		expect(created.currentLoop).toBe(1);
		await advance(2_000);
		expect(inBody).toEqual([0, 1, 2]);
	});

	test('A11: an interval loop still sleeps one interval after its last counted body (count=3, 0.3 s: afterLoop at 0.9 s)', async () => {
		const afterLoopAt: number[] = [];
		const calls = recordCalls();
		const created = testLoop({ seconds: 0.3, count: 3, afterLoop: () => afterLoopAt.push(elapsed()) }, calls.body);
		await Promise.all([created.start(), advance(2_000)]);
		expect(calls.times).toEqual([0, 300, 600]);
		expect(afterLoopAt).toEqual([900]);
	});

	test('A11: a time loop ends right after its last counted body', async () => {
		const afterLoopAt: number[] = [];
		const calls = recordCalls();
		const created = testLoop(
			{ time: ['00:00:05', '00:00:10', '00:00:15'], count: 2, afterLoop: () => afterLoopAt.push(elapsed()) },
			calls.body,
		);
		await Promise.all([created.start(), advance(20_000)]);
		expect(calls.times).toEqual([5_000, 10_000]);
		expect(afterLoopAt).toEqual([10_000]);
	});

	test('A11: currentLoop equals count inside afterLoop and is 0 after the run', async () => {
		const inAfterLoop: number[] = [];
		const created: Loop<[]> = testLoop(
			{ seconds: 1, count: 4, afterLoop: () => inAfterLoop.push(created.currentLoop) },
			async () => {},
		);
		await Promise.all([created.start(), advance(5_000)]);
		expect(inAfterLoop).toEqual([4]);
		expect(created.currentLoop).toBe(0);
	});
});

describe('the error path', () => {
	test('A12: failed() is already true in the error hook, which gets the error and the loop; start() rejects with it', async () => {
		const boom = new TypeError('cannot read x');
		const failedInHook: boolean[] = [];
		const created: Loop<[]> = testLoop(
			{
				seconds: 1,
				onError: (error, target) => {
					failedInHook.push(created.failed());
					expect(error).toBe(boom);
					expect(target).toBe(created);
				},
			},
			() => {
				throw boom;
			},
		);
		await Promise.all([expect(created.start()).rejects.toBe(boom), flush()]);
		expect(failedInHook).toEqual([true]);
	});

	test('A12: the error hook runs before afterLoop, and afterLoop still runs', async () => {
		const order: string[] = [];
		const created = testLoop(
			{
				onError: async () => {
					await delay(100);
					order.push('onError');
				},
				afterLoop: () => {
					order.push('afterLoop');
				},
			},
			() => {
				order.push('body');
				throw new Error('boom');
			},
		);
		await Promise.all([expect(created.start()).rejects.toThrow('boom'), advance(100)]);
		expect(order).toEqual(['body', 'onError', 'afterLoop']);
	});

	test('A12: an error hook that throws replaces the error, and afterLoop still runs', async () => {
		const original = new Error('original');
		const fromHook = new Error('from the hook');
		const afterLoop = vi.fn();
		const created = testLoop(
			{
				afterLoop,
				onError: () => {
					throw fromHook;
				},
			},
			() => {
				throw original;
			},
		);
		await Promise.all([expect(created.start()).rejects.toBe(fromHook), flush()]);
		expect(afterLoop).toHaveBeenCalledOnce();
		expect(created.failed()).toBe(true);
	});

	test('A12: the original error becomes the cause of the error hook’s error when that has none', async () => {
		const original = new Error('original');
		const fromHook = new Error('from the hook');
		const created = testLoop(
			{
				onError: () => {
					throw fromHook;
				},
			},
			() => {
				throw original;
			},
		);
		await Promise.all([expect(created.start()).rejects.toBe(fromHook), flush()]);
		expect(fromHook.cause).toBe(original);
	});

	test('A12: an error hook that rethrows the error, or throws one with its own cause, is passed through unchanged', async () => {
		const original = new Error('original');
		const ownCause = new Error('own cause');
		const wrapped = new Error('wrapped', { cause: ownCause });
		const rethrowing = testLoop(
			{
				onError: (error) => {
					throw error;
				},
			},
			() => {
				throw original;
			},
		);
		const wrapping = testLoop(
			{
				onError: () => {
					throw wrapped;
				},
			},
			() => {
				throw new Error('body');
			},
		);
		await Promise.all([
			expect(rethrowing.start()).rejects.toBe(original),
			expect(wrapping.start()).rejects.toBe(wrapped),
			flush(),
		]);
		expect(original.cause).toBeUndefined();
		expect(wrapped.cause).toBe(ownCause);
	});

	test('A13 (deviation): a thrown non-Error value takes the ordinary error path', async () => {
		const onError = vi.fn();
		const afterLoop = vi.fn();
		const created = testLoop({ onError, afterLoop }, () => {
			throw 'plain string';
		});
		await Promise.all([expect(created.start()).rejects.toBe('plain string'), flush()]);
		expect(onError).toHaveBeenCalledWith('plain string', created);
		expect(created.failed()).toBe(true);
		expect(afterLoop).toHaveBeenCalledOnce();
	});

	test('A13: a body that rejects with the abort reason after cancel() ends the run as cancelled, not failed', async () => {
		const onError = vi.fn();
		const cancelledInAfterLoop: boolean[] = [];
		const created: Loop<[]> = testLoop(
			{ onError, afterLoop: () => cancelledInAfterLoop.push(created.isBeingCancelled()) },
			() =>
				new Promise((_, reject) => {
					created.signal?.addEventListener('abort', () => reject(created.signal?.reason));
				}),
		);
		const reasons = endReasons(created);
		const run = created.start();
		await advance(1_000);
		created.cancel();
		await flush();
		await expect(run).resolves.toBeUndefined();
		expect(onError).not.toHaveBeenCalled();
		expect(created.failed()).toBe(false);
		expect(cancelledInAfterLoop).toEqual([true]);
		expect(reasons).toEqual(['cancelled']);
	});

	test('A13 (deviation): an AbortError thrown without cancel() is an ordinary error', async () => {
		const onError = vi.fn();
		const abort = new DOMException('The operation was aborted', 'AbortError');
		const created = testLoop({ onError }, () => {
			throw abort;
		});
		await Promise.all([expect(created.start()).rejects.toBe(abort), flush()]);
		expect(onError).toHaveBeenCalledWith(abort, created);
	});

	test('A13: a body that ignores cancellation does not hold the run: cancel() ends it without waiting for the body', async () => {
		const afterLoop = vi.fn();
		const never = deferred();
		const created = testLoop({ afterLoop }, () => never.promise);
		const run = created.start();
		await advance(1_000);
		created.cancel();
		await flush();
		await expect(run).resolves.toBeUndefined();
		expect(afterLoop).toHaveBeenCalledOnce();
		expect(created.isRunning()).toBe(false);
	});
});

describe('afterLoop and cleanup', () => {
	test('A14: afterLoop of a completed run sees the final iteration, isRunning() true, not cancelled, not failed', async () => {
		const seen: unknown[] = [];
		const created: Loop<[]> = testLoop(
			{
				seconds: 1,
				count: 2,
				afterLoop: () => {
					seen.push(
						created.currentLoop,
						created.isRunning(),
						created.isBeingCancelled(),
						created.failed(),
						created.nextIteration?.getTime(),
					);
				},
			},
			async () => {},
		);
		await Promise.all([created.start(), advance(3_000)]);
		expect(seen).toEqual([2, true, false, false, T0 + 2_000]);
	});

	test('A14: afterLoop of a cancelled run sees isBeingCancelled() true; of a failed run, failed() true', async () => {
		const seen: string[] = [];
		const record = (target: Loop<[]>) => () => {
			seen.push(`cancelled=${target.isBeingCancelled()} failed=${target.failed()}`);
		};
		const cancelled: Loop<[]> = testLoop({ seconds: 1, afterLoop: () => record(cancelled)() }, async () => {});
		const failing: Loop<[]> = testLoop({ afterLoop: () => record(failing)() }, () => {
			throw new Error('boom');
		});
		const cancelledRun = cancelled.start();
		await flush();
		cancelled.cancel();
		await cancelledRun;
		await Promise.all([expect(failing.start()).rejects.toThrow('boom'), flush()]);
		expect(seen).toEqual(['cancelled=true failed=false', 'cancelled=false failed=true']);
	});

	test('A14: after the run currentLoop is 0, isBeingCancelled() false, failed() kept, and no timer is left', async () => {
		const created: Loop<[]> = testLoop({ seconds: 1 }, (): void => {
			if (created.currentLoop === 2) throw new Error('third fails');
		});
		await Promise.all([expect(created.start()).rejects.toThrow('third fails'), advance(2_000)]);
		expect(created.currentLoop).toBe(0);
		expect(created.isBeingCancelled()).toBe(false);
		expect(created.failed()).toBe(true);
		expect(created.nextIteration).toBeNull();
		expect(vi.getTimerCount()).toBe(0);
	});

	test('A15 (deviation): cleanup still runs when afterLoop throws; the error goes to the error hook', async () => {
		const fromAfterLoop = new Error('afterLoop broke');
		const onError = vi.fn();
		const calls = recordCalls();
		let broken = true;
		const created = testLoop(
			{
				seconds: 1,
				count: 2,
				onError,
				afterLoop: () => {
					if (broken) throw fromAfterLoop;
				},
			},
			calls.body,
		);
		const reasons = endReasons(created);
		await Promise.all([expect(created.start()).rejects.toBe(fromAfterLoop), advance(2_000)]);
		expect(onError).toHaveBeenCalledExactlyOnceWith(fromAfterLoop, created);
		expect(created.failed()).toBe(true);
		expect(created.currentLoop).toBe(0);
		expect(created.isRunning()).toBe(false);
		expect(reasons).toEqual(['failed']);
		broken = false;
		await Promise.all([created.start(), advance(2_000)]);
		expect(calls.times).toEqual([0, 1_000, 2_000, 3_000]);
	});

	test('A15 (deviation): a stop request is cleared even when afterLoop throws, so the next run iterates', async () => {
		const calls = recordCalls();
		let broken = true;
		const created: Loop<[]> = testLoop(
			{
				seconds: 1,
				afterLoop: () => {
					if (broken) throw new Error('afterLoop broke');
				},
			},
			calls.body,
		);
		const run = created.start();
		await flush();
		created.stop();
		await advance(1_000);
		await expect(run).rejects.toThrow('afterLoop broke');
		broken = false;
		void created.start();
		await advance(2_000);
		expect(calls.times).toEqual([0, 1_000, 1_000, 2_000, 3_000]);
	});

	test('A15 (deviation): cancel() during afterLoop of a stopped run does not interrupt it; cleanup runs', async () => {
		const afterLoopDone = vi.fn();
		const calls = recordCalls();
		const created = testLoop(
			{
				seconds: 1,
				afterLoop: async () => {
					await delay(1_000);
					afterLoopDone();
				},
			},
			calls.body,
		);
		const run = created.start();
		await flush();
		created.stop();
		await advance(1_500);
		created.cancel();
		await advance(500);
		await expect(run).resolves.toBeUndefined();
		expect(afterLoopDone).toHaveBeenCalledOnce();
		expect(created.currentLoop).toBe(0);
		void created.start();
		await advance(1_000);
		expect(calls.times).toEqual([0, 1_000, 2_000, 3_000]);
	});

	test('A15 (deviation): a count loop whose afterLoop calls restart() and then awaits restarts cleanly and ends at count', async () => {
		const calls = recordCalls();
		let restarts = 0;
		const created: Loop<[]> = testLoop(
			{
				seconds: 1,
				count: 2,
				clock: exactClock,
				afterLoop: async () => {
					if (restarts++ === 0) void created.restart();
					await delay(100);
				},
			},
			calls.body,
		);
		void created.start();
		await advance(10_000);
		expect(calls.times).toEqual([0, 1_000, 2_100, 3_100]);
		expect(created.isRunning()).toBe(false);
		expect(created.currentLoop).toBe(0);
	});
});

describe('the outcome of a run', () => {
	test('A16: start() resolves when the run completes its count', async () => {
		const created = testLoop({ seconds: 1, count: 1 }, async () => {});
		await Promise.all([expect(created.start()).resolves.toBeUndefined(), advance(1_000)]);
	});

	test('A16: start() resolves when the run is stopped or cancelled', async () => {
		const stopped = testLoop({ seconds: 1 }, async () => {});
		const stoppedRun = stopped.start();
		stopped.stop();
		const cancelled = testLoop({ seconds: 1 }, async () => {});
		const cancelledRun = cancelled.start();
		await advance(500);
		cancelled.cancel();
		await expect(stoppedRun).resolves.toBeUndefined();
		await expect(cancelledRun).resolves.toBeUndefined();
	});

	test('A16: start() rejects with the error that ended the run', async () => {
		const boom = new RangeError('boom');
		const created = testLoop({}, () => {
			throw boom;
		});
		await Promise.all([expect(created.start()).rejects.toBe(boom), flush()]);
	});

	test('A16 (N2): a failing run that nobody awaits causes no unhandledRejection, nor does a restarted or queued one', async () => {
		const capture = captureUnhandledRejections();
		try {
			let failing = false;
			const created: Loop<[]> = testLoop({ seconds: 1 }, () => {
				if (failing) throw new Error('nobody listens');
			});
			void created.start();
			await flush();
			void created.restart();
			failing = true;
			await advance(10);
			expect(created.failed()).toBe(true);
			failing = false;
			void created.start();
			await flush();
			created.cancel();
			failing = true;
			void created.start();
			await advance(10);
			expect(created.failed()).toBe(true);
			expect(created.isRunning()).toBe(false);
			await realImmediate();
			await realImmediate();
			expect(capture.reasons).toEqual([]);
		} finally {
			capture.stop();
		}
	});
});

describe('Loop#stop', () => {
	test('A17: inside the body: the body finishes, the run ends at once, currentLoop is not incremented', async () => {
		const afterLoop = vi.fn<() => void>();
		const calls = recordCalls(async (index) => {
			if (index === 1) {
				created.stop();
				await delay(500);
			}
		});
		const inAfterLoop: number[] = [];
		const created: Loop<[]> = testLoop(
			{
				seconds: 10,
				afterLoop: () => {
					inAfterLoop.push(created.currentLoop, elapsed());
					afterLoop();
				},
			},
			calls.body,
		);
		await Promise.all([created.start(), advance(30_000)]);
		expect(calls.times).toEqual([0, 10_000]);
		expect(inAfterLoop).toEqual([1, 10_500]);
	});

	test('A17: during an interval sleep: the sleep completes and one more iteration runs', async () => {
		const calls = recordCalls();
		const afterLoopAt: number[] = [];
		const created = testLoop({ seconds: 10, afterLoop: () => afterLoopAt.push(elapsed()) }, calls.body);
		const run = created.start();
		await advance(5_000);
		created.stop();
		await advance(30_000);
		await run;
		expect(calls.times).toEqual([0, 10_000]);
		expect(afterLoopAt).toEqual([10_000]);
	});

	test('A17: during a time-loop sleep: the loop waits for the next slot, runs once more, then ends', async () => {
		const calls = recordCalls();
		const created = testLoop({ time: ['00:00:10', '00:00:20', '00:00:30'] }, calls.body);
		const run = created.start();
		await advance(15_000);
		created.stop();
		await advance(60_000);
		await run;
		expect(calls.times).toEqual([10_000, 20_000]);
	});

	test('A17: failures being retried keep being retried until one succeeds', async () => {
		const calls = recordCalls((index) => {
			if (index === 1 || index === 2) throw connectionReset();
		});
		const created = testLoop({ seconds: 1 }, calls.body);
		const run = created.start();
		await advance(1_500);
		created.stop();
		await advance(10_000);
		await run;
		expect(calls.times).toEqual([0, 1_000, 2_000, 4_000]);
	});

	test('A17: nextIteration is null as soon as a stop is requested', async () => {
		const created = testLoop({ seconds: 10 }, async () => {});
		void created.start();
		await advance(1_000);
		expect(created.nextIteration?.getTime()).toBe(T0 + 10_000);
		created.stop();
		expect(created.nextIteration).toBeNull();
	});
});

describe('Loop#cancel', () => {
	test('A18: during a sleep: the run ends at once and afterLoop sees isBeingCancelled()', async () => {
		const inAfterLoop: unknown[] = [];
		const created: Loop<[]> = testLoop(
			{ seconds: 60, afterLoop: () => inAfterLoop.push(created.isBeingCancelled(), elapsed()) },
			async () => {},
		);
		const run = created.start();
		await advance(10_000);
		created.cancel();
		await run;
		expect(inAfterLoop).toEqual([true, 10_000]);
	});

	test('A18: during the body: the body is abandoned and the loop signal aborts', async () => {
		const afterLoop = vi.fn();
		let bodySignal: AbortSignal | undefined;
		const created: Loop<[]> = testLoop({ afterLoop }, (): Promise<void> => {
			bodySignal = created.signal;
			return delay(60_000);
		});
		const run = created.start();
		await advance(1_000);
		expect(bodySignal?.aborted).toBe(false);
		created.cancel();
		await flush();
		await expect(run).resolves.toBeUndefined();
		expect(bodySignal?.aborted).toBe(true);
		expect(afterLoop).toHaveBeenCalledOnce();
		expect(elapsed()).toBe(1_000);
	});

	test('A18: during the backoff sleep: no retry happens', async () => {
		const calls = recordCalls(() => {
			throw connectionReset();
		});
		const created = testLoop({ seconds: 1 }, calls.body);
		const run = created.start();
		await advance(500);
		created.cancel();
		await run;
		await advance(10_000);
		expect(calls.times).toEqual([0]);
	});

	test('A18: cancellation is asynchronous: right after cancel() the loop is still running', async () => {
		const created = testLoop({ seconds: 1 }, async () => {});
		void created.start();
		await flush();
		created.cancel();
		expect(created.isRunning()).toBe(true);
		await flush();
		expect(created.isRunning()).toBe(false);
	});

	test('A18: cancel() right after start() ends the run before beforeLoop: neither hook runs', async () => {
		const beforeLoop = vi.fn();
		const afterLoop = vi.fn();
		const calls = recordCalls();
		const created = testLoop({ seconds: 1, beforeLoop, afterLoop }, calls.body);
		const run = created.start();
		created.cancel();
		await flush();
		await expect(run).resolves.toBeUndefined();
		expect(beforeLoop).not.toHaveBeenCalled();
		expect(afterLoop).not.toHaveBeenCalled();
		expect(calls.times).toEqual([]);
	});

	test('A18 (deviation): start() right after cancel() does not throw; the new run begins after the old cleanup', async () => {
		const order: string[] = [];
		const calls = recordCalls<[string]>((_, label) => {
			order.push(`body ${label}`);
		});
		const created: Loop<[string]> = testLoop(
			{
				seconds: 1,
				afterLoop: () => {
					order.push(`afterLoop currentLoop=${created.currentLoop}`);
				},
			},
			calls.body,
		);
		void created.start('old');
		await advance(1_500);
		created.cancel();
		const second = created.start('new');
		await advance(10);
		expect(order).toEqual(['body old', 'body old', 'afterLoop currentLoop=1', 'body new']);
		created.cancel();
		await expect(second).resolves.toBeUndefined();
	});
});

describe('Loop#restart', () => {
	test('A19: does nothing when the loop is not running (it does not start it) and returns a resolved promise', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 1 }, calls.body);
		await expect(created.restart()).resolves.toBeUndefined();
		await advance(5_000);
		expect(created.isRunning()).toBe(false);
		expect(calls.times).toEqual([]);
	});

	test("A19: cancels the run and starts a new one with the new arguments after the old run's afterLoop", async () => {
		const order: string[] = [];
		const calls = recordCalls<[string]>((_, label) => {
			order.push(`body ${label} at ${elapsed()}`);
		});
		const created: Loop<[string]> = testLoop(
			{
				seconds: 10,
				clock: exactClock,
				beforeLoop: () => {
					order.push('beforeLoop');
				},
				afterLoop: async () => {
					await delay(100);
					order.push(`afterLoop cancelled=${created.isBeingCancelled()}`);
				},
			},
			calls.body,
		);
		void created.start('a');
		await advance(3_000);
		void created.restart('b');
		await advance(100);
		expect(order).toEqual(['beforeLoop', 'body a at 0', 'afterLoop cancelled=true', 'beforeLoop', 'body b at 3100']);
		expect(created.isRunning()).toBe(true);
	});

	test('A19 (deviation): two restart() calls before the new run begins: the last arguments win, no error', async () => {
		const logger = recordingLogger();
		const calls = recordCalls<[string]>();
		const created = testLoop({ seconds: 10, logger }, calls.body);
		void created.start('a');
		await advance(1_000);
		const b = created.restart('b');
		expect(created.restart('c')).toBe(b);
		await advance(1_000);
		expect(calls.args).toEqual([['a'], ['c']]);
		expect(logger.error).not.toHaveBeenCalled();
	});

	test('A19: cancel() then restart() in the same turn still restarts the loop', async () => {
		const calls = recordCalls<[string]>();
		const created = testLoop({ seconds: 10 }, calls.body);
		void created.start('a');
		await advance(1_000);
		created.cancel();
		void created.restart('b');
		await advance(10);
		expect(calls.args).toEqual([['a'], ['b']]);
		expect(created.isRunning()).toBe(true);
	});

	test('A19: restart() during beforeLoop abandons it without afterLoop and starts the new run', async () => {
		const afterLoop = vi.fn();
		const beforeLoop = vi.fn(() => delay(5_000));
		const calls = recordCalls<[string]>();
		const created = testLoop({ seconds: 60, beforeLoop, afterLoop, clock: exactClock }, calls.body);
		void created.start('a');
		await advance(1_000);
		void created.restart('b');
		await advance(5_000);
		expect(beforeLoop).toHaveBeenCalledTimes(2);
		expect(afterLoop).not.toHaveBeenCalled();
		expect(calls.args).toEqual([['b']]);
		expect(calls.times).toEqual([6_000]);
	});

	test('A19: stop() then restart(): the restart wins', async () => {
		const calls = recordCalls<[string]>();
		const created = testLoop({ seconds: 10, clock: exactClock }, calls.body);
		void created.start('a');
		await advance(1_000);
		created.stop();
		void created.restart('b');
		await advance(10_000);
		expect(calls.args).toEqual([['a'], ['b'], ['b']]);
		expect(created.isRunning()).toBe(true);
	});
});
