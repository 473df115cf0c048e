import type { ResourceLimits } from 'node:worker_threads';
import type { ServiceMap } from '../protocol/index.js';
import {
	assertKnownKeys,
	assertMethods,
	assertNumber,
	assertOptionsObject,
	assertStringList,
	assertTimerMs,
	describeValue,
	HELLO_KEY_ENV,
	InvalidOptionError,
	optionKeySet,
} from '../protocol/index.js';
import type { Clock } from './clock.js';

/** Options of {@link TaskPool}. */
export interface TaskPoolOptions<S extends ServiceMap = ServiceMap> {
	/** The most worker threads. @defaultValue `max(1, availableParallelism() - 1)`: one core stays with the gateway */
	readonly threads?: number;
	/**
	 * Workers kept alive while idle. A pool that keeps any also keeps one spare worker, idle and warm, besides the
	 * busy ones (up to `threads + 1` threads): it never runs more than `threads` iterations at once, so when a worker
	 * dies the retried iteration runs on the spare at once.
	 * @defaultValue 0
	 */
	readonly minThreads?: number;
	/** How long an idle worker above `minThreads` lives. @defaultValue 60_000 */
	readonly idleTimeoutMs?: number;
	/** Iterations that may wait for one of the `threads` places before the next is refused. @defaultValue 1000 */
	readonly maxQueue?: number;
	/** Functions tasks may call on the main thread (`ctx.host.name(...)`); arguments and results must be cloneable. */
	readonly services?: S;
	/** Heap and stack caps of each worker (`worker_threads` resource limits); past them the worker dies with an out-of-memory error. */
	readonly resourceLimits?: ResourceLimits;
	/**
	 * Environment variables the workers see, by name (an allowlist). Without it, workers see the main thread's
	 * environment minus `DISCORD_TOKEN` and the names in `scrubEnv`.
	 */
	readonly env?: readonly string[];
	/** More variable names to remove from the workers' environment (`DISCORD_TOKEN` always is). @defaultValue [] */
	readonly scrubEnv?: readonly string[];
	/** Node flags for the workers (e.g. `['--enable-source-maps']`). `.ts` tasks need none: see the README. */
	readonly execArgv?: readonly string[];
	/** How long a cancelled or timed-out body may take to stop by itself before its worker is terminated. @defaultValue 1000 */
	readonly graceMs?: number;
	/** A custom worker host (advanced; must speak this release's protocol). @defaultValue the bundled `worker-host.cjs` */
	readonly workerPath?: string | URL;
	/** Where the grace and timeout timers wait. @defaultValue systemClock */
	readonly clock?: Clock;
}

/** Defaults of {@link TaskPoolOptions}. */
export const DEFAULT_TASK_POOL_OPTIONS = {
	minThreads: 0,
	idleTimeoutMs: 60_000,
	maxQueue: 1000,
	graceMs: 1000,
} as const satisfies Partial<TaskPoolOptions>;

const POOL_OPTION_KEYS = optionKeySet<TaskPoolOptions>({
	threads: true,
	minThreads: true,
	idleTimeoutMs: true,
	maxQueue: true,
	services: true,
	resourceLimits: true,
	env: true,
	scrubEnv: true,
	execArgv: true,
	graceMs: true,
	workerPath: true,
	clock: true,
});

/** More threads than this is a typo: each worker is a V8 isolate of its own. */
const MAX_THREADS = 1024;

/**
 * Validates TaskPool options without creating a pool.
 * @throws {@link InvalidOptionError} naming the option and the value it got.
 * @internal
 */
export function assertTaskPoolOptions(options: TaskPoolOptions): void {
	assertOptionsObject(options, 'TaskPool options');
	assertKnownKeys(options, POOL_OPTION_KEYS, 'TaskPool');
	for (const [key, min, max] of [
		['threads', 1, MAX_THREADS],
		['minThreads', 0, MAX_THREADS],
		['maxQueue', 0, Number.MAX_SAFE_INTEGER],
	] as const) {
		if (options[key] !== undefined) assertNumber(options[key], key, { min, max, integer: true });
	}
	assertTimerMs(options.idleTimeoutMs, 'idleTimeoutMs');
	assertTimerMs(options.graceMs, 'graceMs');
	assertStringList(options.env, 'env');
	assertStringList(options.scrubEnv, 'scrubEnv');
	assertStringList(options.execArgv, 'execArgv');
	const { resourceLimits, workerPath, clock } = options as Record<string, unknown>;
	if (resourceLimits !== undefined) {
		if (typeof resourceLimits !== 'object' || resourceLimits === null) {
			throw new InvalidOptionError(
				'resourceLimits',
				`\`resourceLimits\` must be an object like { maxOldGenerationSizeMb: 64 }, got ${describeValue(resourceLimits)}`,
			);
		}
		for (const [key, value] of Object.entries(resourceLimits)) {
			if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
				throw new InvalidOptionError(
					`resourceLimits.${key}`,
					`\`resourceLimits.${key}\` must be a positive number, got ${describeValue(value)}`,
				);
			}
		}
	}
	if (workerPath !== undefined && typeof workerPath !== 'string' && !(workerPath instanceof URL)) {
		throw new InvalidOptionError(
			'workerPath',
			`\`workerPath\` must be a path or a URL, got ${describeValue(workerPath)}`,
		);
	}
	assertMethods(clock, 'clock', ['now', 'sleep']);
	const services: unknown = options.services ?? {};
	if (typeof services !== 'object' || services === null) {
		throw new InvalidOptionError(
			'services',
			`\`services\` must be an object of functions, got ${describeValue(services)}`,
		);
	}
	for (const [name, service] of Object.entries(services as object)) {
		if (typeof service !== 'function') {
			throw new InvalidOptionError(
				`services.${name}`,
				`\`services.${name}\` must be a function, got ${describeValue(service)}`,
			);
		}
	}
}

/**
 * The environment of a pool's workers (or task processes): never the bot's token, never the hello key of another
 * pool. @internal
 */
export function workerEnv(options: TaskPoolOptions): Record<string, string> {
	const env: Record<string, string> = {};
	const allow = options.env ? new Set(options.env) : undefined;
	const scrub = new Set(['DISCORD_TOKEN', HELLO_KEY_ENV, ...(options.scrubEnv ?? [])]);
	for (const [name, value] of Object.entries(process.env)) {
		if (value === undefined || scrub.has(name)) continue;
		if (allow && !allow.has(name)) continue;
		env[name] = value;
	}
	return env;
}
