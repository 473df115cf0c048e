import { LoopController, type LoopControllerOptions } from 'discord-tasks';
import { type BullMQBackendOptions, bullmqBackend } from 'discord-tasks/bullmq';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type RedisServer, startRedis } from './redis-server.js';

/** Short locks and checks, so that crash tests take seconds instead of a minute. */
export const FAST: Partial<BullMQBackendOptions> = { lockDurationMs: 1000, stalledIntervalMs: 500, watchdogMs: 300 };

/**
 * One redis-server for the test file, and "processes" of one bot: controllers with their own connections and
 * process ids, on one prefix per test. Every controller is closed after each test.
 */
export function useCluster() {
	const state: { redis: RedisServer | undefined } = { redis: undefined };
	const open: LoopController[] = [];
	let prefixes = 0;
	beforeAll(async () => {
		state.redis = await startRedis();
	});
	afterEach(async () => {
		await Promise.all(open.splice(0).map((tasks) => tasks.close({ timeoutMs: 2000 })));
	});
	afterAll(async () => {
		await state.redis?.stop();
	});
	const redis = () => state.redis as RedisServer;
	return {
		redis,
		/** `size` controllers on a new prefix (or `prefix`). */
		cluster(
			size: number,
			options: { prefix?: string; backend?: Partial<BullMQBackendOptions>; controller?: LoopControllerOptions } = {},
		) {
			const prefix = options.prefix ?? `t${process.pid}x${++prefixes}`;
			const controllers = Array.from({ length: size }, (_, index) => {
				const tasks = new LoopController({
					// Quiet: tests that expect warnings (retries) assert on events instead.
					logger: { warn() {}, error() {} },
					...options.controller,
					backend: bullmqBackend({
						connection: redis().url,
						prefix,
						processId: `p${index}`,
						...FAST,
						...options.backend,
					}),
				});
				open.push(tasks);
				return tasks;
			});
			return { controllers, prefix };
		},
	};
}

/** Resolves when `check()` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'the condition'): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}
