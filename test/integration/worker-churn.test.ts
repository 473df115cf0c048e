import { setTimeout as delay } from 'node:timers/promises';
import { loop, TaskPool } from 'discord-tasks';
import { describe, expect, test, vi } from 'vitest';
import { fixture, useWorkerLoops } from '../helpers/worker-loops.js';

// Workers started and terminated while they load their host must never take the process down: on Node 20,
// terminating a worker that loads an ES module through require(esm) aborts the whole process
// (v8::Module::IsGraphAsync). The worker host is CommonJS for that reason. A process abort here fails this file.

const { testPool, defer } = useWorkerLoops();
const quiet = { warn() {}, error() {} };

/** Worker threads of this process right now. */
function liveWorkers(): number {
	return (process.report.getReport() as { workers: unknown[] }).workers.length;
}

/** Starts a loop, cancels it after `afterMs`, and waits for the run to end. */
async function startThenCancel(created: ReturnType<typeof loop>, afterMs: number): Promise<void> {
	const run = created.start();
	await delay(afterMs);
	created.cancel();
	await run;
}

describe('worker churn', () => {
	test('start/cancel on the default, dedicated and short-lived shared pools, while another pool is busy', async () => {
		const busy = testPool({ threads: 1 });
		const burner = loop({ seconds: 0, pool: busy, logger: quiet }, fixture('spin.mjs'));
		const burning = burner.start('burn', 20);
		defer(async () => {
			burner.cancel();
			await burning;
		});
		await vi.waitFor(() => expect(busy.threads).toBe(1), { timeout: 5000 });

		for (let cycle = 0; cycle < 24; cycle++) {
			const afterMs = cycle % 6;
			// The default pool is created for the run and destroyed when it ends: often while its worker still loads.
			await startThenCancel(loop({ seconds: 0.01, logger: quiet }, fixture('echo.mjs')), afterMs);
			await startThenCancel(
				loop({ seconds: 0.01, isolation: 'dedicated', graceMs: 0, logger: quiet }, fixture('echo.mjs')),
				afterMs,
			);
			const shared = new TaskPool({ threads: 2, minThreads: 2, graceMs: 0 });
			const onShared = loop({ seconds: 0.01, pool: shared, logger: quiet }, fixture('echo.mjs'));
			await startThenCancel(onShared, afterMs);
			await shared.close();
		}

		// Every pool the cycles made is gone, with all its workers: a closed pool never starts workers again.
		await vi.waitFor(() => expect(liveWorkers()).toBeLessThanOrEqual(busy.threads), { timeout: 5000 });
		expect(busy.threads).toBe(1);
	});
});
