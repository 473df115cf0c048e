import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { describe, expect, test, vi } from 'vitest';
import {
	DEFAULT_EXCEPTION_TYPES,
	ErrorCode,
	InvalidOptionError,
	type Loop,
	type LoopEventMap,
	loop,
	PoolQueueFullError,
	RetryableDiscordError,
	RetryableNetworkError,
	RetryableTimeoutError,
	TaskError,
	TaskTimeoutError,
	WorkerCrashedError,
} from '../../../src/index.js';
import { advance, elapsed, exactClock, flush } from '../../helpers/fake-time.js';
import { connectionReset, testLoop, useLoopTestTime } from '../../helpers/loops.js';
import { recordCalls } from '../../helpers/record-calls.js';
import { recordingLogger } from '../../helpers/recording-logger.js';

useLoopTestTime();

const noBody = { body: undefined, files: undefined };

function discordApiError(status: number, code = 0): DiscordAPIError {
	return new DiscordAPIError({ code, message: `${status}` }, code, status, 'GET', '/channels/1', noBody);
}

function rateLimitError(): RateLimitError {
	return new RateLimitError({
		timeToReset: 1_000,
		limit: 5,
		method: 'POST',
		hash: 'hash',
		url: '/channels/1/messages',
		route: '/channels/:id/messages',
		majorParameter: '1',
		global: false,
		retryAfter: 1_000,
		sublimitTimeout: 0,
		scope: 'user',
	});
}

function withCode(code: string, message = code): Error {
	return Object.assign(new Error(message), { code });
}

/** A random source that returns `values` in turn, cycling. */
function sequence(...values: number[]): () => number {
	let index = 0;
	return () => values[index++ % values.length] ?? Number.NaN;
}

/**
 * Runs a loop whose first body throws `error` and later bodies succeed, for 1.5 s of fake time, and reports
 * whether it was retried (a second call after the 1 s backoff) or ended through the error hook.
 */
async function firstFailure(error: unknown, options: { reconnect?: boolean } = {}) {
	const onError = vi.fn();
	const calls = recordCalls((index) => {
		if (index === 0) throw error;
	});
	const created = testLoop({ seconds: 10, onError, ...options }, calls.body);
	const run = created.start();
	await advance(1_500);
	return { created, run, onError, times: calls.times };
}

describe('the default exception types', () => {
	test('E1: are the network, Discord and timeout matchers plus worker crashes, task timeouts and a full pool, in order', () => {
		expect(DEFAULT_EXCEPTION_TYPES).toEqual([
			RetryableNetworkError,
			RetryableDiscordError,
			RetryableTimeoutError,
			WorkerCrashedError,
			TaskTimeoutError,
			PoolQueueFullError,
		]);
		expect(Object.isFrozen(DEFAULT_EXCEPTION_TYPES)).toBe(true);
	});

	test.each([
		['ECONNRESET', withCode('ECONNRESET')],
		['ETIMEDOUT', withCode('ETIMEDOUT')],
		['ECONNREFUSED', withCode('ECONNREFUSED')],
		['EPIPE', withCode('EPIPE')],
		['EAI_AGAIN', withCode('EAI_AGAIN')],
		['undici UND_ERR_SOCKET in the cause chain', new TypeError('fetch failed', { cause: withCode('UND_ERR_SOCKET') })],
		[
			'UND_ERR_CONNECT_TIMEOUT two causes deep',
			new Error('a', { cause: new Error('b', { cause: withCode('UND_ERR_CONNECT_TIMEOUT') }) }),
		],
		['discord.js HTTPError', new HTTPError(503, 'Service Unavailable', 'GET', '/gateway', noBody)],
		['DiscordAPIError 500', discordApiError(500)],
		['DiscordAPIError 502', discordApiError(502)],
		['RateLimitError', rateLimitError()],
		['a TimeoutError (AbortSignal.timeout reason)', new DOMException('The operation timed out.', 'TimeoutError')],
		['TaskTimeoutError', new TaskTimeoutError('too slow', { loopName: 'x', iteration: 0, timeoutMs: 10 })],
		['WorkerCrashedError', new WorkerCrashedError('gone', { reason: 'exited with code 1', exitCode: 1 })],
		[
			'a TaskError whose cause is a socket reset',
			new TaskError('body threw', { loopName: 'x', iteration: 0, cause: withCode('ECONNRESET') }),
		],
	])('E1/E2: %s is retried with backoff', async (_, error) => {
		const { created, onError, times } = await firstFailure(error);
		expect(times).toEqual([0, 1_000]);
		expect(onError).not.toHaveBeenCalled();
		expect(created.isRunning()).toBe(true);
		expect(created.failed()).toBe(false);
	});

	test.each([
		['DiscordAPIError 403 (Missing Permissions)', discordApiError(403, 50013)],
		['DiscordAPIError 404 (Unknown Channel)', discordApiError(404, 10003)],
		['DiscordAPIError 400', discordApiError(400, 50035)],
		['a plain Error', new Error('bug')],
		['a TypeError', new TypeError('x is not a function')],
		['ENOENT (deviation: not every OSError)', withCode('ENOENT')],
		['EACCES (deviation: not every OSError)', withCode('EACCES')],
		['a non-Error value', { code: 'ECONNRESET-ish' }],
	])('E1/E2: %s is not retried: it ends the run through the error hook', async (_, error) => {
		const { created, run, onError, times } = await firstFailure(error);
		await expect(run).rejects.toBe(error);
		expect(times).toEqual([0]);
		expect(onError).toHaveBeenCalledExactlyOnceWith(error, created);
		expect(created.failed()).toBe(true);
	});
});

describe('reconnect', () => {
	test('E2: with reconnect false a handled error takes the error path', async () => {
		const reset = connectionReset();
		const { created, run, onError, times } = await firstFailure(reset, { reconnect: false });
		await expect(run).rejects.toBe(reset);
		expect(times).toEqual([0]);
		expect(onError).toHaveBeenCalledWith(reset, created);
	});

	test('E2: handled errors keep the loop alive however often they come (#9074); the backoff grows across successes (B5)', async () => {
		const calls = recordCalls((index) => {
			if (index % 2 === 1) throw connectionReset();
		});
		const created = testLoop({ seconds: 1 }, calls.body);
		void created.start();
		await advance(60_000);
		expect(created.isRunning()).toBe(true);
		// Each failure waits 1, 2, 4, 8, 16 s ... although a success came in between.
		expect(calls.times).toEqual([0, 1_000, 2_000, 3_000, 5_000, 6_000, 10_000, 11_000, 19_000, 20_000, 36_000, 37_000]);
	});
});

describe('a retry of an interval loop', () => {
	test("E3: with 'catchUp' the spec example is reproduced: 0.0 ok, 0.5 fail, 2.45 fail, 5.34 ok, 5.34 ok (end)", async () => {
		const afterLoopAt: number[] = [];
		const calls = recordCalls((index) => {
			if (index === 1 || index === 2) throw connectionReset();
		});
		const created = testLoop(
			{
				seconds: 0.5,
				count: 3,
				missedIterations: 'catchUp',
				// Backoff delays 0.975 * 2 s = 1.95 s and 0.7225 * 4 s = 2.89 s, as in the spec's run.
				random: sequence(0.975, 0.7225),
				clock: exactClock,
				afterLoop: () => afterLoopAt.push(elapsed()),
			},
			calls.body,
		);
		await Promise.all([created.start(), advance(10_000)]);
		expect(calls.times).toEqual([0, 500, 2_450, 5_340, 5_340]);
		expect(afterLoopAt).toEqual([5_340]);
	});

	test("E3 (deviation): with the default 'skip' a successful retry is followed by the next grid point, no burst", async () => {
		const afterLoopAt: number[] = [];
		const calls = recordCalls((index) => {
			if (index === 1 || index === 2) throw connectionReset();
		});
		const created = testLoop(
			{
				seconds: 0.5,
				count: 3,
				random: sequence(0.975, 0.7225),
				clock: exactClock,
				afterLoop: () => afterLoopAt.push(elapsed()),
			},
			calls.body,
		);
		await Promise.all([created.start(), advance(10_000)]);
		expect(calls.times).toEqual([0, 500, 2_450, 5_340, 5_500]);
		expect(afterLoopAt).toEqual([6_000]);
	});

	test('E3: the retry runs right after the backoff delay, without an interval sleep', async () => {
		const calls = recordCalls((index) => {
			if (index === 1) throw connectionReset();
		});
		void testLoop({ seconds: 60 }, calls.body).start();
		await advance(61_000);
		expect(calls.times).toEqual([0, 60_000, 61_000]);
	});
});

describe('a retry of a time loop', () => {
	test('E4 (deviation): runs right after its backoff delay, then the loop continues at the next slot: no double run', async () => {
		const calls = recordCalls((index) => {
			if (index === 0) throw connectionReset();
		});
		void testLoop({ time: ['00:00:01', '00:00:03', '00:00:05'] }, calls.body).start();
		await advance(6_000);
		expect(calls.times).toEqual([1_000, 2_000, 3_000, 5_000]);
	});

	test('E4 (deviation): a retry that lands exactly on the next slot stands for it: no double run', async () => {
		const calls = recordCalls((index) => {
			if (index === 0) throw connectionReset();
		});
		void testLoop({ time: ['00:00:01', '00:00:02', '00:00:05'], clock: exactClock }, calls.body).start();
		await advance(6_000);
		expect(calls.times).toEqual([1_000, 2_000, 5_000]);
	});

	test('E4 (deviation): a retry whose backoff passes the next slot is followed by the slot after it', async () => {
		const calls = recordCalls((index) => {
			if (index === 0) throw connectionReset();
		});
		void testLoop(
			{ time: ['00:00:01', '00:00:02', '00:00:05'], random: () => 0.9, clock: exactClock },
			calls.body,
		).start();
		await advance(6_000);
		expect(calls.times).toEqual([1_000, 2_800, 5_000]);
	});
});

describe('logging', () => {
	test('E5: every retried error is logged as a warning with the loop name and the delay in seconds, two decimals', async () => {
		const logger = recordingLogger();
		const resets = [connectionReset('first'), connectionReset('second')];
		const calls = recordCalls((index) => {
			const reset = resets[index];
			if (reset) throw reset;
		});
		async function syncMembers() {
			await calls.body();
		}
		void testLoop({ seconds: 10, logger, random: sequence(0.5, 0.12345) }, syncMembers).start();
		await advance(2_000);
		expect(logger.warn.mock.calls).toEqual([
			["Handling exception in loop 'syncMembers'. Retrying in 1.00s", resets[0]],
			["Handling exception in loop 'syncMembers'. Retrying in 0.49s", resets[1]],
		]);
		expect(logger.error).not.toHaveBeenCalled();
	});

	test('E6: the default error hook logs the error with the loop name', async () => {
		const logger = recordingLogger();
		const boom = new Error('boom');
		const created = testLoop({ name: 'stats', logger }, () => {
			throw boom;
		});
		await Promise.all([expect(created.start()).rejects.toBe(boom), flush()]);
		expect(logger.error).toHaveBeenCalledExactlyOnceWith("Unhandled exception in loop 'stats'", boom);
		expect(logger.warn).not.toHaveBeenCalled();
	});

	test('E6: a registered error hook replaces the default one and receives the error and the loop', async () => {
		const logger = recordingLogger();
		const onError = vi.fn();
		const boom = new Error('boom');
		const created = testLoop({ logger, onError }, () => {
			throw boom;
		});
		await Promise.all([expect(created.start()).rejects.toBe(boom), flush()]);
		expect(onError).toHaveBeenCalledExactlyOnceWith(boom, created);
		expect(logger.error).not.toHaveBeenCalled();
	});
});

describe('after an unhandled error', () => {
	test('E7: the run is over, failed() is true until the next start(), and no iteration runs any more', async () => {
		const boom = new Error('boom');
		const calls = recordCalls((index) => {
			if (index === 1) throw boom;
		});
		const created = testLoop({ seconds: 1 }, calls.body);
		const run = created.start();
		await advance(1_000);
		await expect(run).rejects.toBe(boom);
		expect(created.isRunning()).toBe(false);
		expect(created.failed()).toBe(true);
		await advance(5_000);
		expect(calls.times).toEqual([0, 1_000]);
		expect(created.failed()).toBe(true);
		void created.start();
		expect(created.failed()).toBe(false);
	});
});

describe('Loop#addExceptionType', () => {
	class QuotaError extends Error {}
	class DailyQuotaError extends QuotaError {}

	test('E8: an added class is retried, and so are its subclasses', async () => {
		const calls = recordCalls((index) => {
			if (index === 0) throw new QuotaError('quota');
			if (index === 1) throw new DailyQuotaError('daily quota');
		});
		const created = testLoop({ seconds: 60 }, calls.body);
		expect(created.addExceptionType(QuotaError)).toBe(created);
		void created.start();
		await advance(3_000);
		expect(calls.times).toEqual([0, 1_000, 3_000]);
		expect(created.isRunning()).toBe(true);
	});

	test('E8: appends in order and keeps duplicates', () => {
		const created = loop({}, async () => {});
		created.addExceptionType(QuotaError, DailyQuotaError, QuotaError);
		expect(created.exceptionTypes.slice(DEFAULT_EXCEPTION_TYPES.length)).toEqual([
			QuotaError,
			DailyQuotaError,
			QuotaError,
		]);
	});

	test('E8: Error itself is accepted (every error is then retried)', async () => {
		const calls = recordCalls((index) => {
			if (index === 0) throw new Error('anything');
		});
		const created = testLoop({ seconds: 60 }, calls.body).addExceptionType(Error);
		void created.start();
		await advance(1_000);
		expect(calls.times).toEqual([0, 1_000]);
	});

	test.each([
		['a class that does not extend Error', class NotAnError {}, 'does not extend Error'],
		['a string', 'QuotaError', "'QuotaError' (string) at index 1: pass the class itself, addExceptionType(QuotaError)"],
		['an Error instance', new QuotaError('x'), 'Error'],
		['null', null, 'null'],
	])('E8: %s is refused, and nothing given in the same call is added', (_, bad, mentioned) => {
		const created = loop({}, async () => {});
		let caught: unknown;
		try {
			created.addExceptionType(QuotaError, bad as never, DailyQuotaError);
		} catch (error) {
			caught = error;
		}
		expect(caught).toBeInstanceOf(InvalidOptionError);
		expect((caught as InvalidOptionError).code).toBe(ErrorCode.InvalidOption);
		expect((caught as InvalidOptionError).option).toBe('types[1]');
		expect((caught as InvalidOptionError).message).toContain(mentioned);
		expect(created.exceptionTypes).toEqual([...DEFAULT_EXCEPTION_TYPES]);
	});
});

describe('Loop#removeExceptionType', () => {
	class A extends Error {}
	class B extends Error {}

	function loopWith(...types: (typeof A)[]): Loop<[]> {
		return loop({}, async () => {})
			.clearExceptionTypes()
			.addExceptionType(...types);
	}

	test('E9: removing a type present once returns true', () => {
		const created = loopWith(A, B);
		expect(created.removeExceptionType(A)).toBe(true);
		expect(created.exceptionTypes).toEqual([B]);
	});

	test('E9: removing an absent type returns false', () => {
		const created = loopWith(B);
		expect(created.removeExceptionType(A)).toBe(false);
		expect(created.exceptionTypes).toEqual([B]);
	});

	test('E9: one present and one absent returns false, yet the present one is removed', () => {
		const created = loopWith(A);
		expect(created.removeExceptionType(A, B)).toBe(false);
		expect(created.exceptionTypes).toEqual([]);
	});

	test('E9: a type present twice and passed once returns false, and both are removed', () => {
		const created = loopWith(A, B, A);
		expect(created.removeExceptionType(A)).toBe(false);
		expect(created.exceptionTypes).toEqual([B]);
	});

	test('E9: a type present twice and passed twice returns true', () => {
		const created = loopWith(A, A);
		expect(created.removeExceptionType(A, A)).toBe(true);
		expect(created.exceptionTypes).toEqual([]);
	});

	test('E9: no arguments returns true', () => {
		expect(loopWith(A).removeExceptionType()).toBe(true);
	});

	test('E9: a non-class argument returns false and removes nothing', () => {
		const created = loopWith(A);
		expect(created.removeExceptionType('A' as never)).toBe(false);
		expect(created.exceptionTypes).toEqual([A]);
	});

	test('E9: subclasses are not removed with their parent (exact identity)', () => {
		class SubA extends A {}
		const created = loopWith(A, SubA);
		created.removeExceptionType(A);
		expect(created.exceptionTypes).toEqual([SubA]);
	});

	test('E9: a removed default type is no longer retried', async () => {
		const reset = connectionReset();
		const onError = vi.fn();
		const created = testLoop({ onError }, () => {
			throw reset;
		});
		expect(created.removeExceptionType(RetryableNetworkError)).toBe(true);
		await Promise.all([expect(created.start()).rejects.toBe(reset), flush()]);
		expect(onError).toHaveBeenCalledWith(reset, created);
	});
});

describe('Loop#clearExceptionTypes', () => {
	test('E10: nothing is retried any more: a network error ends the run', async () => {
		const reset = connectionReset();
		const onError = vi.fn();
		const created = testLoop({ onError }, () => {
			throw reset;
		});
		expect(created.clearExceptionTypes()).toBe(created);
		expect(created.exceptionTypes).toEqual([]);
		await Promise.all([expect(created.start()).rejects.toBe(reset), flush()]);
		expect(onError).toHaveBeenCalledWith(reset, created);
	});

	test('E10: types can be added again afterwards', async () => {
		const calls = recordCalls((index) => {
			if (index === 0) throw connectionReset();
		});
		const created = testLoop({ seconds: 60 }, calls.body).clearExceptionTypes().addExceptionType(RetryableNetworkError);
		void created.start();
		await advance(1_000);
		expect(calls.times).toEqual([0, 1_000]);
	});

	test('E11 (n/a, per-instance copies are Python-only): each loop has its own exception types', () => {
		class QuotaError extends Error {}
		const first = loop({}, async () => {});
		const second = loop({}, async () => {});
		first.addExceptionType(QuotaError);
		second.clearExceptionTypes();
		expect(first.exceptionTypes).toEqual([...DEFAULT_EXCEPTION_TYPES, QuotaError]);
		expect(second.exceptionTypes).toEqual([]);
		expect(loop({}, async () => {}).exceptionTypes).toEqual([...DEFAULT_EXCEPTION_TYPES]);
	});
});

describe('retryOn', () => {
	test('E1 (extension): an error the predicate accepts is retried although no type matches it', async () => {
		const quota = Object.assign(new Error('quota'), { status: 429 });
		const retryOn = vi.fn((error: unknown) => (error as { status?: number }).status === 429);
		const calls = recordCalls((index) => {
			if (index === 0) throw quota;
		});
		void testLoop({ seconds: 60, retryOn }, calls.body).start();
		await advance(1_000);
		expect(calls.times).toEqual([0, 1_000]);
		expect(retryOn).toHaveBeenCalledWith(quota);
	});

	test('E1 (extension): an error the predicate refuses takes the error path', async () => {
		const boom = new Error('boom');
		const onError = vi.fn();
		const created = testLoop({ retryOn: () => false, onError }, () => {
			throw boom;
		});
		await Promise.all([expect(created.start()).rejects.toBe(boom), flush()]);
		expect(onError).toHaveBeenCalledWith(boom, created);
	});

	test('E2 (extension): with reconnect false the predicate is not enough', async () => {
		const boom = new Error('boom');
		const created = testLoop({ reconnect: false, retryOn: () => true }, () => {
			throw boom;
		});
		await Promise.all([expect(created.start()).rejects.toBe(boom), flush()]);
	});
});

describe('failure events', () => {
	test('E2: iterationFailed and reconnecting describe a retried failure', async () => {
		const reset = connectionReset();
		const failed: LoopEventMap['iterationFailed'][0][] = [];
		const reconnecting: LoopEventMap['reconnecting'][0][] = [];
		const calls = recordCalls(async (index) => {
			if (index === 1) {
				await new Promise((resolve) => setTimeout(resolve, 250));
				throw reset;
			}
		});
		const created = testLoop({ seconds: 10 }, calls.body);
		created.on('iterationFailed', (info) => failed.push(info));
		created.on('reconnecting', (info) => reconnecting.push(info));
		void created.start();
		await advance(12_000);
		expect(failed).toEqual([{ iteration: 1, durationMs: 250, error: reset, willRetry: true }]);
		expect(reconnecting).toEqual([{ iteration: 1, error: reset, delayMs: 1_000 }]);
	});

	test('E7: iterationFailed and loopStopped describe an error that ends the run', async () => {
		const boom = new Error('boom');
		const events: unknown[] = [];
		const created = testLoop({}, () => {
			throw boom;
		});
		created.on('iterationFailed', (info) => events.push(info));
		created.on('reconnecting', (info) => events.push(info));
		created.on('loopStopped', (info) => events.push(info));
		await Promise.all([expect(created.start()).rejects.toBe(boom), flush()]);
		expect(events).toEqual([
			{ iteration: 0, durationMs: 0, error: boom, willRetry: false },
			{ reason: 'failed', error: boom },
		]);
	});
});
