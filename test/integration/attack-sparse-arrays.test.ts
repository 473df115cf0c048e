import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

// Structured clone copies a sparse array as its length and its few present elements, so a task can send an array
// of length 2^32 - 1 in a few bytes. Anything on the main thread that walks it index by index (filter, a spread
// into a call) then runs for minutes or allocates gigabytes. Each attack runs in a child process (the bot), so a
// hang or a fatal out-of-memory shows as a timeout or an exit code here.

const runner = fileURLToPath(new URL('../fixtures/hostile/child-runner.mjs', import.meta.url));

/** How long the bot may take for the whole attack (start, one iteration, close). */
const BUDGET_MS = 8000;

interface ChildRun {
	readonly code: number | null;
	readonly signal: string | null;
	readonly timedOut: boolean;
	readonly outcome: Record<string, unknown> | undefined;
	readonly stderr: string;
}

function runBot(fixture: string): Promise<ChildRun> {
	return new Promise((resolve) => {
		// A small heap, as a bot on a small host has: an allocation of gigabytes fails fast instead of after swapping.
		const child = spawn(process.execPath, ['--max-old-space-size=256', runner, fixture], {
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk) => {
			stdout += chunk;
		});
		child.stderr.on('data', (chunk) => {
			stderr += chunk;
		});
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			child.kill('SIGKILL');
		}, BUDGET_MS);
		child.on('exit', (code, signal) => {
			clearTimeout(timer);
			const line = stdout.trim().split('\n').at(-1);
			let outcome: Record<string, unknown> | undefined;
			try {
				outcome = line ? JSON.parse(line) : undefined;
			} catch {
				outcome = undefined;
			}
			resolve({ code, signal, timedOut, outcome, stderr: stderr.slice(-2000) });
		});
	});
}

describe('a sparse array of length 2^32 - 1 from a task', () => {
	test('as the class chain of a thrown error: the iteration fails as a TaskError and the main thread does not hang', async () => {
		const run = await runBot('./sparse-class-chain.mjs');
		expect({ timedOut: run.timedOut, code: run.code }).toEqual({ timedOut: false, code: 0 });
		expect(run.outcome?.['error']).toMatchObject({ name: 'TaskError', code: 'ERR_TASK_FAILED', causeIsError: true });
	}, 15_000);

	test('as the arguments of a service call: refused, and the main process neither hangs nor runs out of memory', async () => {
		const run = await runBot('./sparse-service-args.mjs');
		expect({ timedOut: run.timedOut, code: run.code, signal: run.signal }).toEqual({
			timedOut: false,
			code: 0,
			signal: null,
		});
		expect(run.stderr).not.toMatch(/heap out of memory/);
		// The forged call was answered with an error; the service never ran with 2^32 - 1 arguments.
		expect(run.outcome?.['result']).toMatchObject({ captured: true, timedOut: false, ok: false });
	}, 15_000);
});
