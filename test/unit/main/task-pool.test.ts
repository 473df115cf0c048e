import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { CompiledAllowlist } from '../../../src/main/discord-allowlist.js';
import { type PiscinaLike, type PiscinaOptions, TaskPool } from '../../../src/main/task-pool.js';
import {
	ErrorCode,
	PoolClosedError,
	PoolQueueFullError,
	PRELOAD_ENV,
	ProtocolError,
	type RunIterationRequest,
	serializeError,
	TaskAbortedError,
	TaskError,
	TaskTimeoutError,
	taskKey,
	WorkerCrashedError,
} from '../../../src/protocol/index.js';

// TaskPool's main side against a fake piscina (no worker threads): what it submits, how it escalates a timeout or a
// cancel to a kill, and how every way a run can end maps to an error. Real workers are the integration suite's.

interface FakeRun {
	readonly request: RunIterationRequest;
	readonly name: string;
	readonly signal: AbortSignal;
	resolve(outcome: unknown): void;
	reject(error: unknown): void;
}

class FakePiscina implements PiscinaLike {
	readonly created: PiscinaOptions;
	readonly options: { minThreads: number };
	readonly threads: Worker[] = [];
	queueSize = 0;
	readonly runs: FakeRun[] = [];
	readonly listeners = new Map<string, ((value: unknown) => void)[]>();
	destroyedWithMinimum: number | undefined;
	/** Thrown by the next run() at once, as piscina does when it cannot start a worker. */
	throwNext: Error | undefined;
	/** Thrown at once by every run() of no task (the pool's way to have a worker started). */
	throwOnNudge: Error | undefined;

	constructor(options: PiscinaOptions) {
		this.created = options;
		this.options = { minThreads: options.minThreads ?? 0 };
	}
	run(task: unknown, { name, signal }: { name: string; signal: AbortSignal }): Promise<unknown> {
		const error = this.throwNext ?? (task === null ? this.throwOnNudge : undefined);
		this.throwNext = undefined;
		if (error) throw error;
		return new Promise((resolve, reject) => {
			this.runs.push({ request: task as RunIterationRequest, name, signal, resolve, reject });
			signal.addEventListener(
				'abort',
				() => reject(Object.assign(new Error('The task has been aborted'), { name: 'AbortError' })),
				{
					once: true,
				},
			);
		});
	}
	on(event: string, listener: (value: unknown) => void): this {
		this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
		return this;
	}
	emit(event: string, value: unknown): void {
		for (const listener of this.listeners.get(event) ?? []) listener(value);
	}
	async destroy(): Promise<void> {
		this.destroyedWithMinimum = this.options.minThreads;
	}
}

const task = { moduleUrl: 'file:///tasks/scores.js', exportName: 'default' };
const call = (overrides: { timeoutMs?: number; iteration?: number } = {}) => ({
	task,
	args: ['guild', 5],
	loopName: 'scores',
	iteration: overrides.iteration ?? 3,
	timeoutMs: overrides.timeoutMs ?? 0,
});
const scope = { loopName: 'scores', iteration: 3, allowlist: new CompiledAllowlist(undefined), discord: undefined };

function createPool(options: ConstructorParameters<typeof TaskPool>[0] = {}) {
	let fake: FakePiscina | undefined;
	const pool = new TaskPool(
		{ threads: 2, graceMs: 100, ...options },
		{
			createPiscina: (piscinaOptions) => {
				fake = new FakePiscina(piscinaOptions);
				return fake;
			},
		},
	);
	return { pool, piscina: fake as unknown as FakePiscina };
}

const ok = (value: unknown) => ({ ok: true, value });

beforeEach(() => {
	vi.useFakeTimers();
});
afterEach(() => {
	vi.useRealTimers();
});

describe('TaskPool#runIteration (against a fake piscina)', () => {
	test('submits the call with a fresh random token and invocation id, and resolves with the outcome value', async () => {
		const { pool, piscina } = createPool();
		const signal = new AbortController().signal;

		const first = pool.runIteration(call(), { signal, scope });
		const second = pool.runIteration(call({ iteration: 4 }), { signal, scope });
		const [a, b] = piscina.runs;
		a?.resolve(ok({ rows: 2 }));
		b?.resolve(ok(null));

		await expect(first).resolves.toEqual({ rows: 2 });
		await expect(second).resolves.toBeNull();
		expect(a?.name).toBe('runIteration');
		expect(a?.request).toMatchObject({
			loopName: 'scores',
			iteration: 3,
			task: taskKey(task),
			args: ['guild', 5],
			timeoutMs: 0,
		});
		expect(Number.isSafeInteger(a?.request.token)).toBe(true);
		expect(a?.request.token).not.toBe(b?.request.token);
		expect(a?.request.invocationId).not.toBe(a?.request.token);
		expect(a?.signal.aborted).toBe(false);
	});

	test("a body's failure outcome is a TaskError whose cause is rebuilt with its class", async () => {
		const { pool, piscina } = createPool();
		const run = pool.runIteration(call(), { signal: new AbortController().signal, scope });

		piscina.runs[0]?.resolve({ ok: false, error: serializeError(new RangeError('too far')) });

		const error = await run.catch((reason: unknown) => reason);
		expect(error).toBeInstanceOf(TaskError);
		expect((error as TaskError).cause).toBeInstanceOf(RangeError);
	});

	test('timeoutMs: at the deadline the body is asked to stop; past graceMs its worker is killed: TaskTimeoutError', async () => {
		const { pool, piscina } = createPool();
		const run = pool.runIteration(call({ timeoutMs: 1000 }), { signal: new AbortController().signal, scope });
		run.catch(() => {});

		await vi.advanceTimersByTimeAsync(1099);
		expect(piscina.runs[0]?.signal.aborted).toBe(false);
		await vi.advanceTimersByTimeAsync(1);

		expect(piscina.runs[0]?.signal.aborted).toBe(true);
		await expect(run).rejects.toBeInstanceOf(TaskTimeoutError);
		await expect(run).rejects.toMatchObject({ code: ErrorCode.TaskTimeout, timeoutMs: 1000, iteration: 3 });
	});

	test('a body that stops within the grace period is not killed, and its own failure is the cause', async () => {
		const { pool, piscina } = createPool();
		const run = pool.runIteration(call({ timeoutMs: 1000 }), { signal: new AbortController().signal, scope });
		run.catch(() => {});

		await vi.advanceTimersByTimeAsync(1050);
		piscina.runs[0]?.resolve({ ok: false, error: serializeError(new Error('stopped')) });
		await vi.advanceTimersByTimeAsync(1000);

		await expect(run).rejects.toMatchObject({ code: ErrorCode.TaskTimeout, cause: { message: 'stopped' } });
		expect(piscina.runs[0]?.signal.aborted).toBe(false);
	});

	test("the loop's cancel: past graceMs the worker is killed and the iteration is a TaskAbortedError", async () => {
		const { pool, piscina } = createPool();
		const cancel = new AbortController();
		const run = pool.runIteration(call(), { signal: cancel.signal, scope });
		run.catch(() => {});

		cancel.abort(new Error('cancelled'));
		await vi.advanceTimersByTimeAsync(100);

		expect(piscina.runs[0]?.signal.aborted).toBe(true);
		await expect(run).rejects.toBeInstanceOf(TaskAbortedError);
	});

	test('an already cancelled loop submits nothing', async () => {
		const { pool, piscina } = createPool();
		await expect(pool.runIteration(call(), { signal: AbortSignal.abort(), scope })).rejects.toBeInstanceOf(
			TaskAbortedError,
		);
		expect(piscina.runs).toHaveLength(0);
	});

	test.each([
		[
			new Error('worker exited with code: 3'),
			{ code: ErrorCode.WorkerCrashed, exitCode: 3, reason: 'exited with code 3' },
		],
		[Object.assign(new Error('heap'), { code: 'ERR_WORKER_OUT_OF_MEMORY' }), { code: ErrorCode.WorkerOutOfMemory }],
		[new Error('something else'), { code: ErrorCode.WorkerCrashed, reason: 'uncaught error' }],
	])('a worker that dies (%s) is a WorkerCrashedError', async (rejection, expected) => {
		const { pool, piscina } = createPool();
		const run = pool.runIteration(call(), { signal: new AbortController().signal, scope });

		piscina.runs[0]?.reject(rejection);

		const error = await run.catch((reason: unknown) => reason);
		expect(error).toBeInstanceOf(WorkerCrashedError);
		expect(error).toMatchObject(expected);
	});

	test('a null answer (a body that returned nothing) resolves with undefined', async () => {
		const { pool, piscina } = createPool();
		const run = pool.runIteration(call(), { signal: new AbortController().signal, scope });
		piscina.runs[0]?.resolve(null);

		await expect(run).resolves.toBeUndefined();
	});

	test.each([[undefined], ['done'], [{ value: 1 }]])(
		'an answer that is not an outcome (%j) is a ProtocolError for that iteration only',
		async (answer) => {
			const { pool, piscina } = createPool();
			const run = pool.runIteration(call(), { signal: new AbortController().signal, scope });
			piscina.runs[0]?.resolve(answer);

			await expect(run).rejects.toBeInstanceOf(ProtocolError);
			const next = pool.runIteration(call(), { signal: new AbortController().signal, scope });
			piscina.runs[1]?.resolve(ok(1));
			await expect(next).resolves.toBe(1);
		},
	);

	test('a result too large to walk (a sparse array of length 2^32 - 1) fails the iteration', async () => {
		const { pool, piscina } = createPool();
		const run = pool.runIteration(call(), { signal: new AbortController().signal, scope });

		piscina.runs[0]?.resolve(ok(new Array(2 ** 32 - 1)));

		await expect(run).rejects.toThrow(/too large to take/);
	});

	test('past threads + maxQueue iterations in flight, the next is refused and not submitted', async () => {
		const { pool, piscina } = createPool({ threads: 2, maxQueue: 1 });
		const signal = new AbortController().signal;
		const running = [0, 1, 2].map(() => pool.runIteration(call(), { signal, scope }));

		await expect(pool.runIteration(call(), { signal, scope })).rejects.toBeInstanceOf(PoolQueueFullError);
		expect(pool.queueSize).toBe(1);
		piscina.runs[0]?.resolve(ok(null));
		piscina.runs[1]?.resolve(ok(null));
		await vi.advanceTimersByTimeAsync(0);
		piscina.runs[2]?.resolve(ok(null));
		await Promise.all(running);
		expect(piscina.runs).toHaveLength(3);
	});

	test('runs at most `threads` iterations at once; the next is submitted when one settles', async () => {
		const { pool, piscina } = createPool({ threads: 2 });
		const signal = new AbortController().signal;
		const runs = [1, 2, 3].map((iteration) => pool.runIteration(call({ iteration }), { signal, scope }));

		expect(piscina.runs.map((run) => run.request.iteration)).toEqual([1, 2]);
		piscina.runs[1]?.resolve(ok('second'));
		await expect(runs[1]).resolves.toBe('second');

		expect(piscina.runs.map((run) => run.request.iteration)).toEqual([1, 2, 3]);
		piscina.runs[0]?.resolve(ok('first'));
		piscina.runs[2]?.resolve(ok('third'));
		await expect(Promise.all(runs)).resolves.toEqual(['first', 'second', 'third']);
	});

	test('a waiting iteration whose loop is cancelled leaves the line at once, never submitted; the cap holds', async () => {
		const { pool, piscina } = createPool({ threads: 1 });
		const running = pool.runIteration(call({ iteration: 1 }), { signal: new AbortController().signal, scope });
		const cancel = new AbortController();
		const waiting = pool.runIteration(call({ iteration: 2 }), { signal: cancel.signal, scope });
		waiting.catch(() => {});

		cancel.abort(new Error('cancelled'));
		await expect(waiting).rejects.toBeInstanceOf(TaskAbortedError);
		expect(pool.queueSize).toBe(0);
		// A place freed within graceMs of the cancel does not start the cancelled body.
		piscina.runs[0]?.resolve(ok(null));
		await running;
		expect(piscina.runs).toHaveLength(1);

		// Still one place: of two more iterations, one runs and one waits.
		const signal = new AbortController().signal;
		const more = [3, 4].map((iteration) => pool.runIteration(call({ iteration }), { signal, scope }));
		expect(piscina.runs.map((run) => run.request.iteration)).toEqual([1, 3]);
		expect(pool.queueSize).toBe(1);
		piscina.runs[1]?.resolve(ok(null));
		await more[0];
		piscina.runs[2]?.resolve(ok(null));
		await expect(Promise.all(more)).resolves.toEqual([null, null]);
		expect(piscina.runs.map((run) => run.request.iteration)).toEqual([1, 3, 4]);
	});

	test('a waiting iteration that reaches its timeoutMs fails at once with TaskTimeoutError, never submitted', async () => {
		const { pool, piscina } = createPool({ threads: 1 });
		const running = pool.runIteration(call({ iteration: 1 }), { signal: new AbortController().signal, scope });
		const waiting = pool.runIteration(call({ iteration: 2, timeoutMs: 50 }), {
			signal: new AbortController().signal,
			scope,
		});
		waiting.catch(() => {});

		await vi.advanceTimersByTimeAsync(50);
		await expect(waiting).rejects.toBeInstanceOf(TaskTimeoutError);
		piscina.runs[0]?.resolve(ok(null));
		await running;
		expect(piscina.runs).toHaveLength(1);
	});

	test('when piscina throws at once for a waiting iteration, that one fails and the pool still drains', async () => {
		const { pool, piscina } = createPool({ threads: 1 });
		const signal = new AbortController().signal;
		const first = pool.runIteration(call({ iteration: 1 }), { signal, scope });
		const second = pool.runIteration(call({ iteration: 2 }), { signal, scope });
		second.catch(() => {});

		piscina.throwNext = new Error('ERR_WORKER_INIT_FAILED');
		piscina.runs[0]?.resolve(ok('first'));

		await expect(first).resolves.toBe('first');
		await expect(second).rejects.toThrow(/ERR_WORKER_INIT_FAILED/);
		// The place is free again, and close() finds nothing in flight.
		const third = pool.runIteration(call({ iteration: 3 }), { signal, scope });
		piscina.runs[1]?.resolve(ok('third'));
		await expect(third).resolves.toBe('third');
		await expect(pool.close()).resolves.toBeUndefined();
	});
});

describe('TaskPool#close (against a fake piscina)', () => {
	test('refuses new iterations, waits for the running ones, then destroys piscina with no minimum left', async () => {
		const { pool, piscina } = createPool({ minThreads: 2 });
		const running = pool.runIteration(call(), { signal: new AbortController().signal, scope });

		const closed = pool.close();
		await expect(pool.runIteration(call(), { signal: new AbortController().signal, scope })).rejects.toBeInstanceOf(
			PoolClosedError,
		);
		await vi.advanceTimersByTimeAsync(0);
		expect(piscina.destroyedWithMinimum).toBeUndefined();
		piscina.runs[0]?.resolve(ok('last'));
		await closed;

		await expect(running).resolves.toBe('last');
		expect(piscina.destroyedWithMinimum).toBe(0);
	});
});

describe('TaskPool warm-up and replacement (against a fake piscina)', () => {
	test("workers started later get the pool's task modules in their environment", async () => {
		const { pool, piscina } = createPool();
		const env = piscina.created.env as Record<string, string>;
		expect(env[PRELOAD_ENV]).toBeUndefined();

		pool.prepare(task);
		const run = pool.runIteration(call(), { signal: new AbortController().signal, scope });
		piscina.runs[0]?.resolve(ok(null));
		await run;

		expect(JSON.parse(env[PRELOAD_ENV] ?? '[]')).toEqual([task]);
		expect(env['DISCORD_TOKEN']).toBeUndefined();
	});

	test.each([
		{ minThreads: 0, kept: 0, spare: 'without a spare' },
		{ minThreads: 1, kept: 2, spare: 'with a spare' },
	])(
		'when a worker is removed ($spare), the minimum counts it until piscina has topped the pool up, then returns to $kept',
		async ({ minThreads, kept }) => {
			const { piscina } = createPool({ threads: 4, minThreads });
			piscina.threads.push({} as Worker, {} as Worker, {} as Worker);

			piscina.emit('workerDestroy', {});
			expect(piscina.options.minThreads).toBe(3);
			await Promise.resolve();

			expect(piscina.options.minThreads).toBe(kept);
		},
	);

	test('a pool busy past minThreads has piscina start a spare when every worker is busy, and only then', async () => {
		const { pool, piscina } = createPool({ threads: 3, minThreads: 1 });
		piscina.threads.push({} as Worker, {} as Worker); // minThreads + the spare
		const signal = new AbortController().signal;
		const nudges = () => piscina.runs.filter((run) => run.request === null);

		const runs = [pool.runIteration(call({ iteration: 1 }), { signal, scope })];
		expect(nudges()).toHaveLength(0); // one running, the spare idle
		runs.push(pool.runIteration(call({ iteration: 2 }), { signal, scope }));
		// Both workers busy: piscina is asked for a third, with a task aborted at once so it never runs.
		expect(nudges()).toHaveLength(1);
		expect(nudges()[0]?.signal.aborted).toBe(true);

		piscina.threads.push({} as Worker);
		runs.push(pool.runIteration(call({ iteration: 3 }), { signal, scope }));
		expect(nudges()).toHaveLength(2); // all three busy: the spare is the fourth (threads + 1)
		piscina.threads.push({} as Worker);

		for (const run of piscina.runs.filter((each) => each.request !== null)) run.resolve(ok(null));
		await Promise.all(runs);
		const fourth = pool.runIteration(call({ iteration: 4 }), { signal, scope });
		expect(nudges()).toHaveLength(2); // one running again: the spare is idle
		piscina.runs.at(-1)?.resolve(ok(null));
		await fourth;
	});

	test('a spare that cannot be started does not fail the iteration that asked for it', async () => {
		const { pool, piscina } = createPool({ threads: 2, minThreads: 1 });
		piscina.threads.push({} as Worker, {} as Worker);
		piscina.throwOnNudge = new Error('ERR_WORKER_INIT_FAILED');
		const signal = new AbortController().signal;

		const runs = [1, 2].map((iteration) => pool.runIteration(call({ iteration }), { signal, scope }));
		for (const run of piscina.runs) run.resolve(ok(run.request.iteration));

		await expect(Promise.all(runs)).resolves.toEqual([1, 2]);
	});

	test('a pool that keeps no workers (minThreads: 0) never asks for a spare', async () => {
		const { pool, piscina } = createPool({ threads: 2 });
		const signal = new AbortController().signal;
		const runs = [1, 2].map((iteration) => pool.runIteration(call({ iteration }), { signal, scope }));
		expect(piscina.runs.every((run) => run.request !== null)).toBe(true);
		for (const run of piscina.runs) run.resolve(ok(null));
		await Promise.all(runs);
	});

	test('a pool that keeps workers (minThreads ≥ 1) keeps one spare worker more; one that keeps none has none', () => {
		expect(createPool({ threads: 2, minThreads: 1 }).piscina.created).toMatchObject({ minThreads: 2, maxThreads: 3 });
		expect(createPool({ threads: 2, minThreads: 2 }).piscina.created).toMatchObject({ minThreads: 3, maxThreads: 3 });
		expect(createPool({ threads: 2 }).piscina.created).toMatchObject({ minThreads: 0, maxThreads: 2 });
	});
});
