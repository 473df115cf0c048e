import { ErrorCode, InvalidOptionError, TaskTimeoutError, WorkerCrashedError } from 'discord-tasks';
import { describe, expect, test, vi } from 'vitest';
import { CHANNEL_A, CHANNEL_B, contentsIn, useBoundaryBot } from '../helpers/boundary-bot.js';
import { findInMemory } from '../helpers/memory-scan.js';
import { fixture, useWorkerLoops } from '../helpers/worker-loops.js';

// isolation: 'process': the body runs in a child process of its own, started without the token, with the same
// crash, timeout and cancel semantics as a worker, reaching Discord over IPC through the same allowlist.

const { testPool, workerLoop } = useWorkerLoops();
const { cleanups, bot } = useBoundaryBot();

type Probe = { pid: number; ppid: number; envHasToken: boolean; sent: string | null };

describe("isolation: 'process'", () => {
	test('runs the body in a child process of the bot, and hands back its result', async () => {
		const completed = vi.fn();
		const probe = workerLoop({ count: 2, seconds: 0, isolation: 'process' }, 'process-probe.mjs');
		probe.on('iterationCompleted', completed);

		await probe.start({ marker: 'm' });

		const results = completed.mock.calls.map(([info]) => info.result as Probe);
		expect(results).toHaveLength(2);
		expect(results[0]?.pid).not.toBe(process.pid);
		expect(results[0]?.ppid).toBe(process.pid);
		// One process serves the run's iterations.
		expect(results[1]?.pid).toBe(results[0]?.pid);
	});

	test('the token is in neither the environment nor the memory of the task process', async () => {
		const token = 'process-boundary-token-5d1c0e';
		const previous = process.env['DISCORD_TOKEN'];
		process.env['DISCORD_TOKEN'] = token;
		cleanups.push(() => {
			if (previous === undefined) delete process.env['DISCORD_TOKEN'];
			else process.env['DISCORD_TOKEN'] = previous;
		});
		const { gateway, tasks } = await bot({}, token);
		const loop = tasks.loop(
			{ name: 'probe', seconds: 60, isolation: 'process', discord: { channels: [CHANNEL_A] } },
			fixture('process-probe.mjs'),
		);
		const first = new Promise<Probe>((resolve) =>
			loop.on('iterationCompleted', ({ result }) => resolve(result as Probe)),
		);
		const marker = 'marker-that-the-task-keeps-7a91';
		const run = tasks.start('probe', { marker, channelId: CHANNEL_A });
		const result = await first;

		// The task reached Discord over IPC, through the main thread's client.
		expect(result.sent).toMatch(/^\d+$/);
		expect(contentsIn(gateway, CHANNEL_A)).toEqual(['from a task process']);
		expect(result.envHasToken).toBe(false);
		// The scan finds what the task holds (the marker), and in the bot's own process the token: it works.
		expect(findInMemory(result.pid, [token, marker])).toEqual(new Set([marker]));
		expect(findInMemory('self', [token]).has(token)).toBe(true);
		loop.cancel();
		await run;
	});

	test('a send outside the allowlist is refused on the main thread', async () => {
		const { gateway, tasks } = await bot();
		tasks.loop(
			{ name: 'probe', count: 1, isolation: 'process', discord: { channels: [CHANNEL_A] } },
			fixture('process-probe.mjs'),
		);
		const completed = vi.fn();
		tasks.get('probe')?.on('iterationCompleted', completed);

		await tasks.start('probe', { marker: 'm', channelId: CHANNEL_B });

		expect((completed.mock.calls[0]?.[0]?.result as Probe | undefined)?.sent).toBe(ErrorCode.DiscordAccessDenied);
		expect(contentsIn(gateway, CHANNEL_B)).toEqual([]);
	});

	test('process.exit() is a WorkerCrashedError with the exit code, retried in a new process', async () => {
		const attempts: number[] = [];
		const pool = testPool({ services: { firstAttempt: (pid: number) => attempts.push(pid) === 1 } });
		const failed = vi.fn();
		const crashing = workerLoop({ count: 1, pool, isolation: 'process' }, 'crash.mjs');
		crashing.on('iterationFailed', failed);

		await crashing.start('exit-first');

		const error = failed.mock.calls[0]?.[0].error;
		expect(error).toBeInstanceOf(WorkerCrashedError);
		expect(error).toMatchObject({ code: ErrorCode.WorkerCrashed, exitCode: 3, reason: 'exited with code 3' });
		expect(attempts).toHaveLength(2);
	});

	test('a body that never yields is killed after timeoutMs + graceMs with a TaskTimeoutError', async () => {
		const onError = vi.fn();
		const spinning = workerLoop(
			{ count: 1, isolation: 'process', timeoutMs: 100, graceMs: 100, reconnect: false, onError },
			'spin.mjs',
		);

		const error = await spinning.start('forever').catch((reason: unknown) => reason);

		expect(error).toBeInstanceOf(TaskTimeoutError);
		expect(error).toMatchObject({ code: ErrorCode.TaskTimeout, timeoutMs: 100 });
	});

	test('cancel() aborts a cooperative body through ctx.signal, and kills one that never yields', async () => {
		const cooperative = workerLoop({ isolation: 'process', graceMs: 5000 }, 'process-probe.mjs');
		const started = vi.fn();
		cooperative.on('iterationStarted', started);
		const run = cooperative.start({ marker: 'm', hold: true });
		await vi.waitFor(() => expect(started).toHaveBeenCalled(), { timeout: 5000 });
		cooperative.cancel();
		await expect(run).resolves.toBeUndefined();

		const spinning = workerLoop({ isolation: 'process', graceMs: 100 }, 'spin.mjs');
		const spinStarted = vi.fn();
		spinning.on('iterationStarted', spinStarted);
		const spin = spinning.start('forever');
		await vi.waitFor(() => expect(spinStarted).toHaveBeenCalled(), { timeout: 5000 });
		spinning.cancel();
		await expect(spin).resolves.toBeUndefined();
	});

	test('arguments that cannot cross (a Proxy, a function) are refused at start()', () => {
		const probe = workerLoop({ count: 1, isolation: 'process' }, 'echo.mjs');

		expect(() => probe.start(new Proxy({}, {}))).toThrow(InvalidOptionError);
		expect(() => probe.start(() => 1)).toThrow(/args\[0\] is a function/);
	});
});
