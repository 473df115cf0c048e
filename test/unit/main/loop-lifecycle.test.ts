import { describe, expect, test } from 'vitest';
import { TaskAbortedError } from '../../../src/index.js';
import { advance, delay, flush } from '../../helpers/fake-time.js';
import { testLoop, useLoopTestTime } from '../../helpers/loops.js';
import { deferred, recordCalls } from '../../helpers/record-calls.js';

useLoopTestTime();

describe('Loop#[Symbol.asyncDispose]', () => {
	test('settles the promise of a queued start() instead of leaving it pending forever', async () => {
		const gate = deferred();
		const created = testLoop({ seconds: 1, afterLoop: () => gate.promise }, () => {});
		void created.start();
		await flush();
		created.cancel();
		const queued = created.start(); // queued behind the cancelled run's afterLoop
		const disposed = created[Symbol.asyncDispose]();
		gate.resolve();
		await flush();
		await expect(queued).resolves.toBeUndefined();
		await disposed;
		expect(created.isRunning()).toBe(false);
	});
});

describe('Loop#start after a run that ended early', () => {
	test('a stop() requested in a failed beforeLoop does not carry over into the next run', async () => {
		const calls = recordCalls();
		let first = true;
		const created = testLoop(
			{
				seconds: 1,
				count: 2,
				onError: () => {},
				beforeLoop: () => {
					if (!first) return;
					first = false;
					created.stop();
					throw new Error('not ready');
				},
			},
			calls.body,
		);
		await expect(Promise.all([created.start(), flush()])).rejects.toThrow('not ready');
		const second = created.start();
		await advance(3000);
		await second;
		expect(calls.times).toHaveLength(2);
	});
});

describe('Loop#cancel', () => {
	test('aborts loop.signal with a TaskAbortedError naming the loop, readable by fetch-like APIs', async () => {
		const started = deferred();
		const created = testLoop({ seconds: 1, name: 'poller' }, async () => {
			started.resolve();
			await delay(10_000);
		});
		void created.start();
		await advance(0);
		await started.promise;
		const signal = created.signal as AbortSignal;
		created.cancel();
		expect(signal.aborted).toBe(true);
		expect(signal.reason).toBeInstanceOf(TaskAbortedError);
		expect((signal.reason as Error).message).toContain("'poller'");
	});

	test('from an iterationStarted listener: the body of that iteration is not run', async () => {
		const calls = recordCalls();
		const created = testLoop({ seconds: 1 }, calls.body);
		created.on('iterationStarted', () => created.cancel());
		await Promise.all([created.start(), flush()]);
		expect(calls.times).toEqual([]);
	});
});
