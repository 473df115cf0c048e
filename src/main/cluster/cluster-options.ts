import {
	assertKnownKeys,
	assertNumber,
	assertOptionsObject,
	describeValue,
	InvalidOptionError,
	invalidOption,
	optionKeySet,
} from '../../protocol/index.js';

/**
 * Options of `bullmqBackend()` (`discord-tasks/bullmq`): where Redis is, and how quickly the cluster notices a
 * process that died.
 */
export interface BullMQBackendOptions {
	/**
	 * The Redis server: a `redis://` or `rediss://` URL (`redis://:password@host:6379/0`), or ioredis options
	 * (`{ host, port, password, db, tls }`). It must keep every key (`maxmemory-policy noeviction`).
	 */
	readonly connection: string | RedisConnectionOptions;
	/**
	 * What every key of this bot starts with: two bots (or a staging and a production bot) on one Redis need two
	 * prefixes. Letters, digits, `_`, `-` and `.`. @defaultValue `'discord-tasks'`
	 */
	readonly prefix?: string;
	/** This process's name in `status()` and logs. @defaultValue `<hostname>:<pid>` */
	readonly processId?: string;
	/**
	 * How long a tick's lock lives without renewal: a process that dies mid-tick is noticed after this plus
	 * `stalledIntervalMs`. The lock is renewed every half of it while the tick runs. @defaultValue 10_000
	 */
	readonly lockDurationMs?: number;
	/** How often each process looks for ticks whose lock expired. @defaultValue 5_000 */
	readonly stalledIntervalMs?: number;
	/** How often one process of the cluster checks that every running loop has its next tick. @defaultValue 5_000 */
	readonly watchdogMs?: number;
	/**
	 * How long a loop that no process declares any more (removed from the code) keeps its state and schedule, for
	 * a rolling deploy to finish. @defaultValue 900_000 (15 minutes)
	 */
	readonly staleAfterMs?: number;
	/** How many ticks one process runs at once, across its loops. @defaultValue 100 */
	readonly concurrency?: number;
	/** How long start-up waits for Redis before it reports it unreachable. @defaultValue 5_000 */
	readonly connectTimeoutMs?: number;
}

/** The ioredis options the backend reads; any other ioredis option is passed through. */
export interface RedisConnectionOptions {
	readonly host?: string;
	readonly port?: number;
	readonly username?: string;
	readonly password?: string;
	readonly db?: number;
	readonly tls?: object;
	readonly [option: string]: unknown;
}

/** Defaults of {@link BullMQBackendOptions}. */
export const DEFAULT_BULLMQ_BACKEND_OPTIONS = {
	prefix: 'discord-tasks',
	lockDurationMs: 10_000,
	stalledIntervalMs: 5_000,
	watchdogMs: 5_000,
	staleAfterMs: 900_000,
	concurrency: 100,
	connectTimeoutMs: 5_000,
} as const;

/** @internal */
export type ResolvedBackendOptions = Required<Omit<BullMQBackendOptions, 'processId'>> & { readonly processId: string };

const BACKEND_OPTION_KEYS = optionKeySet<BullMQBackendOptions>({
	connection: true,
	prefix: true,
	processId: true,
	lockDurationMs: true,
	stalledIntervalMs: true,
	watchdogMs: true,
	staleAfterMs: true,
	concurrency: true,
	connectTimeoutMs: true,
});

/** Names that go into Redis keys and BullMQ job ids as they are (BullMQ refuses `:` in both). */
const KEY_PART = /^[A-Za-z0-9_.-]{1,100}$/;

/** @internal */
export function assertKeyPart(value: unknown, option: string, what: string): asserts value is string {
	if (typeof value !== 'string' || !KEY_PART.test(value)) {
		throw new InvalidOptionError(
			option,
			`${what} must be 1 to 100 letters, digits, \`_\`, \`-\` or \`.\` (it becomes part of Redis keys), got ${describeValue(value)}`,
		);
	}
}

/**
 * Validates the options of `bullmqBackend()`.
 * @throws {@link InvalidOptionError} naming the option and the value it got.
 * @internal
 */
export function resolveBackendOptions(options: BullMQBackendOptions, defaultProcessId: string): ResolvedBackendOptions {
	assertOptionsObject(options, 'bullmqBackend() options');
	assertKnownKeys(options, BACKEND_OPTION_KEYS, 'bullmqBackend()');
	const { connection } = options;
	if (typeof connection === 'string') {
		let url: URL | undefined;
		try {
			url = new URL(connection);
		} catch {}
		if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:')) {
			throw invalidOption('connection', 'a redis:// or rediss:// URL, or ioredis options', connection);
		}
	} else if (typeof connection !== 'object' || connection === null || Array.isArray(connection)) {
		throw invalidOption('connection', "a redis:// URL ('redis://127.0.0.1:6379') or ioredis options", connection);
	}
	const prefix = options.prefix ?? DEFAULT_BULLMQ_BACKEND_OPTIONS.prefix;
	assertKeyPart(prefix, 'prefix', '`prefix`');
	const processId = options.processId ?? defaultProcessId;
	if (typeof processId !== 'string' || processId.length === 0 || processId.length > 200) {
		throw invalidOption('processId', 'a string of 1 to 200 characters', processId);
	}
	const ms = (key: keyof typeof DEFAULT_BULLMQ_BACKEND_OPTIONS & `${string}Ms`, min: number): number =>
		assertNumber(options[key] ?? DEFAULT_BULLMQ_BACKEND_OPTIONS[key], key, {
			min,
			max: 2_147_483_647,
			integer: true,
			unit: 'ms',
		});
	const lockDurationMs = ms('lockDurationMs', 100);
	const resolved: ResolvedBackendOptions = {
		connection,
		prefix,
		processId,
		lockDurationMs,
		stalledIntervalMs: ms('stalledIntervalMs', 50),
		watchdogMs: ms('watchdogMs', 50),
		staleAfterMs: ms('staleAfterMs', 1000),
		connectTimeoutMs: ms('connectTimeoutMs', 1),
		concurrency: assertNumber(options.concurrency ?? DEFAULT_BULLMQ_BACKEND_OPTIONS.concurrency, 'concurrency', {
			min: 1,
			max: 10_000,
			integer: true,
		}),
	};
	return resolved;
}
