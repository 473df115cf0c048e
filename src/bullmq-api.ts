/**
 * `discord-tasks/bullmq`: the cluster backend. Loads the optional peers `bullmq` and `ioredis`; nothing else in the
 * package does. See docs/cluster.md.
 * @packageDocumentation
 */
import { hostname } from 'node:os';
import { DelayedError, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { BACKEND, type BullMQBackendSpec, type LoopBackend } from './main/cluster/cluster-engine.js';
import { type BullMQBackendOptions, resolveBackendOptions } from './main/cluster/cluster-options.js';

export type { LoopBackend } from './main/cluster/cluster-engine.js';
export type { ClusterLoopOptions, ClusterLoopStatus, Delivery } from './main/cluster/cluster-loop.js';
export type { BullMQBackendOptions, RedisConnectionOptions } from './main/cluster/cluster-options.js';
export { DEFAULT_BULLMQ_BACKEND_OPTIONS } from './main/cluster/cluster-options.js';

/**
 * A backend that runs a {@link LoopController}'s loops once per tick across every process of the bot, on BullMQ
 * and Redis. Give every process the same loops; each tick runs in one of them.
 *
 * @throws {@link InvalidOptionError} naming the option and the value it got. Redis itself is checked when the
 * controller connects (`await tasks.connect()`, or the first loop).
 *
 * @example
 * ```ts
 * import { LoopController } from 'discord-tasks';
 * import { bullmqBackend } from 'discord-tasks/bullmq';
 *
 * const tasks = new LoopController({
 *   client,
 *   backend: bullmqBackend({ connection: 'redis://127.0.0.1:6379', prefix: 'mybot' }),
 * });
 * await tasks.connect(); // fails now, with what to do, if Redis is not usable
 * ```
 */
export function bullmqBackend(options: BullMQBackendOptions): LoopBackend {
	const spec: BullMQBackendSpec = {
		kind: 'bullmq',
		modules: { Queue, Worker, DelayedError, Redis },
		options: resolveBackendOptions(options, `${hostname()}:${process.pid}`),
	};
	return { [BACKEND]: spec };
}
