import { randomBytes } from 'node:crypto';
import type { DelayedError, Job, Queue, Worker } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { BackendError, ErrorCode } from '../../protocol/index.js';
import type { LogSink } from '../controller-logger.js';
import type { ResolvedBackendOptions } from './cluster-options.js';
import { CLUSTER_SCRIPTS, type ClusterScriptName, SNAPSHOT_FIELDS } from './cluster-scripts.js';

/** The brand of a backend made by `bullmqBackend()` (`Symbol.for`: it holds across copies of the package). */
export const BACKEND = Symbol.for('discord-tasks.loopBackend');

/**
 * A distributed engine for a {@link LoopController}'s loops, made by `bullmqBackend()` from `discord-tasks/bullmq`.
 * Opaque: pass it as the controller's `backend` option.
 */
export interface LoopBackend {
	readonly [BACKEND]: unknown;
}

/** What `bullmqBackend()` puts behind the brand: the peer modules it loaded and its validated options. @internal */
export interface BullMQBackendSpec {
	readonly kind: 'bullmq';
	readonly modules: {
		readonly Queue: typeof Queue;
		readonly Worker: typeof Worker;
		readonly DelayedError: typeof DelayedError;
		readonly Redis: typeof Redis;
	};
	readonly options: ResolvedBackendOptions;
}

/** @internal */
export function isLoopBackend(value: unknown): value is LoopBackend {
	return typeof value === 'object' && value !== null && BACKEND in value;
}

/** The queue of loops that may run in any process; `shard-<id>` queues hold the ticks of `runOn` loops. */
export const ANY_PROCESS_QUEUE = 'loops';

/** A tick job's data: the loop, the run's generation, the tick's target (ms), without jitter. @internal */
export interface TickData {
	readonly n: string;
	readonly g: number;
	readonly t: number;
}

/** One loop's state as every process mirrors it (the fields of `SNAPSHOT_FIELDS`, as Redis returns them). */
export type ClusterSnapshot = { readonly [K in (typeof SNAPSHOT_FIELDS)[number]]: string | null };

/** A message on the control channel. @internal */
export interface ControlMessage {
	readonly event: string;
	readonly extra: string;
	readonly snapshot: ClusterSnapshot | undefined;
}

/** What the engine asks of a loop it carries. @internal */
export interface ClusterMember {
	readonly name: string;
	/** The definition's fingerprint and schedule (JSON), declared when the engine connects and on every heartbeat. */
	definition(): { readonly fingerprint: string; readonly schedule: string };
	/** Declared: the cluster's snapshot and schedule. */
	declared(snapshot: ClusterSnapshot, verdict: 'changed' | 'same', schedule: string): void;
	/** Runs one tick taken from the queue. */
	tick(jobId: string, data: TickData): Promise<void>;
	/** A control message about this loop. */
	control(message: ControlMessage): void;
	/** The process is leaving: abort a tick still running here after `close()`'s deadline. */
	abandon(): void;
	/**
	 * Takes over the start-up or wrap-up of run `gen` from `owner`, a process that died in it (found by the
	 * watchdog), and does it here.
	 */
	adopt(gen: number, owner: string): Promise<void>;
}

/** How long a tick of a loop this process does not declare waits before another process gets a chance at it. */
const UNDECLARED_RETRY_MS = 1000;

/**
 * The BullMQ and Redis side of a cluster: the connections, one BullMQ queue for the loops any process may run and
 * one per shard this process holds, the control channel every process listens to, the heartbeat that declares this
 * process's loops, and the watchdog that repairs a broken tick chain and removes loops nobody declares. The loops'
 * state machine is in `ClusterLoop` and in the scripts (cluster-scripts.ts); this class only moves messages.
 * @internal
 */
export class ClusterEngine {
	readonly processId: string;
	/**
	 * This engine's own name in the loops' `owner` field and its liveness key: the process id plus a random part, so a
	 * restarted process that reuses its `processId` (a respawned shard, a container's pid 1) is not taken for the one
	 * that died.
	 */
	readonly instance: string;
	/** Whether {@link ClusterEngine.close} was called. */
	get closed(): boolean {
		return this.#closed;
	}
	readonly #spec: BullMQBackendSpec;
	readonly #options: ResolvedBackendOptions;
	readonly #log: LogSink;
	readonly #shards: () => { readonly ids: readonly number[]; readonly count: number };
	readonly #consumeWhen: () => Promise<void>;
	readonly #members = new Map<string, ClusterMember>();
	readonly #queues = new Map<string, Queue>();
	readonly #workers: Worker[] = [];
	#client: Redis | undefined;
	#subscriber: Redis | undefined;
	#workerConnection: Redis | undefined;
	#connecting: Promise<void> | undefined;
	#timers: ReturnType<typeof setInterval>[] = [];
	#closed = false;
	/** Set when the watchdog found a step it cannot take over (the loop is not declared here): it skips a turn. */
	#passWatch = false;
	/** Renews this engine's liveness key; cleared last by close(). */
	#aliveTimer: ReturnType<typeof setInterval> | undefined;
	/** The scripts are defined: `run()` need not wait for the rest of `connect()` (which runs scripts itself). */
	#scripts = false;

	constructor(
		spec: BullMQBackendSpec,
		log: LogSink,
		shards: () => { readonly ids: readonly number[]; readonly count: number },
		consumeWhen: () => Promise<void> = () => Promise.resolve(),
	) {
		this.#consumeWhen = consumeWhen;
		this.#spec = spec;
		this.#options = spec.options;
		this.processId = spec.options.processId;
		this.instance = `${this.processId}#${randomBytes(6).toString('hex')}`;
		this.#log = log;
		this.#shards = shards;
	}

	get options(): ResolvedBackendOptions {
		return this.#options;
	}

	/** The channel every process listens to. */
	get #channel(): string {
		return `${this.#options.prefix}:control`;
	}
	#loopKey(name: string): string {
		return `${this.#options.prefix}:loop:${name}`;
	}
	get #runningKey(): string {
		return `${this.#options.prefix}:running`;
	}
	get #declaredKey(): string {
		return `${this.#options.prefix}:declared`;
	}
	/** Where each process's liveness key lives: the prefix, then the process's id. */
	get alivePrefix(): string {
		return `${this.#options.prefix}:alive:`;
	}

	/** The queue a loop's ticks go to: any process, or the process that holds `guildId`'s shard. */
	queueFor(guildId: string | undefined): string {
		if (guildId === undefined) return ANY_PROCESS_QUEUE;
		const { count } = this.#shards();
		return `shard-${Number((BigInt(guildId) >> 22n) % BigInt(count))}`;
	}

	/**
	 * Connects and checks Redis once: reachable, the password accepted, no eviction, no data of another BullMQ major
	 * version under the prefix. Then starts the workers, the control channel, the heartbeat and the watchdog.
	 * @throws {@link BackendError} saying what to do.
	 */
	connect(): Promise<void> {
		this.#connecting ??= this.#connect();
		return this.#connecting;
	}

	async #connect(): Promise<void> {
		const { Redis } = this.#spec.modules;
		const options = this.#options;
		const client = new Redis(redisOptions(options.connection, { maxRetriesPerRequest: 2, lazyConnect: true }) as never);
		this.#client = client;
		// While connecting, an error is the answer connect() reports (ioredis rejects with "Connection is closed."
		// and emits the reason, such as WRONGPASS, as an event); once connected, errors are logged.
		let refused: Error | undefined;
		const onConnectError = (error: Error) => {
			refused ??= error;
		};
		client.on('error', onConnectError);
		await this.#check(client, () => refused);
		client.off('error', onConnectError);
		client.on('error', (error: Error) => this.#log.log('warn', 'Redis connection error', { loop: '', err: error }));
		for (const [name, { keys, lua }] of Object.entries(CLUSTER_SCRIPTS)) {
			client.defineCommand(`dt_${name}`, { numberOfKeys: keys, lua });
		}
		this.#scripts = true;
		const subscriber = client.duplicate();
		this.#subscriber = subscriber;
		subscriber.on('error', (error: Error) =>
			this.#log.log('warn', 'Redis control connection error', { loop: '', err: error }),
		);
		subscriber.on('message', (_channel: string, message: string) => this.#onControl(message));
		await subscriber.subscribe(this.#channel);
		this.#workerConnection = new Redis(redisOptions(options.connection, { maxRetriesPerRequest: null }) as never);
		this.#workerConnection.on('error', (error: Error) =>
			this.#log.log('warn', 'Redis worker connection error', { loop: '', err: error }),
		);
		if (this.#closed) return;
		// This process's liveness: a key that lives a lock's duration, renewed three times as often. Another process
		// takes over a start-up or wrap-up this process was doing once the key is gone (the process died).
		await this.#renewAlive();
		// Not among #timers: close() keeps it renewed until its ticks and wrap-ups are done.
		this.#aliveTimer = this.#every(
			Math.max(100, Math.floor(options.lockDurationMs / 3)),
			() => this.#renewAlive(),
			true,
		);
		await Promise.all([...this.#members.values()].map((member) => this.#declare(member)));
		// Ticks are taken only once this process's client is ready: a body (and runOn's guild cache) can count on it.
		// Until then the other processes take them. Not awaited: start() and the rest work meanwhile.
		void this.#consumeWhen().then(() => {
			if (this.#closed) return;
			const { ids } = this.#shards();
			for (const queue of [ANY_PROCESS_QUEUE, ...ids.map((id) => `shard-${id}`)]) this.#startWorker(queue);
		});
		this.#every(Math.min(60_000, Math.max(1000, Math.floor(options.staleAfterMs / 4))), () => this.#heartbeat());
		this.#every(options.watchdogMs, () => this.#watch());
	}

	async #check(client: Redis, refused: () => Error | undefined): Promise<void> {
		const where = describeConnection(this.#options.connection);
		let timer: ReturnType<typeof setTimeout> | undefined;
		try {
			await Promise.race([
				client.connect(),
				new Promise((_, reject) => {
					timer = setTimeout(
						() => reject(new Error(`no answer within ${this.#options.connectTimeoutMs} ms`)),
						this.#options.connectTimeoutMs,
					);
				}),
			]);
		} catch (thrown) {
			client.disconnect();
			const error = refused() ?? thrown;
			const message = error instanceof Error ? error.message : String(error);
			if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(message)) {
				throw new BackendError(
					`Redis at ${where} refused the credentials (${message}): check the password (and user) in \`connection\``,
					{ code: ErrorCode.BackendMisconfigured, cause: error },
				);
			}
			throw new BackendError(
				`Cannot reach Redis at ${where} (${message}): start redis-server there, or fix \`connection\``,
				{ code: ErrorCode.BackendUnavailable, cause: error },
			);
		} finally {
			clearTimeout(timer);
		}
		const memory = await client.info('memory');
		const policy = /maxmemory_policy:(\S+)/.exec(memory)?.[1];
		if (policy !== undefined && policy !== 'noeviction') {
			client.disconnect();
			throw new BackendError(
				`Redis at ${where} evicts keys (maxmemory-policy ${policy}), and an evicted key loses a loop's state or its next tick: set \`maxmemory-policy noeviction\` (CONFIG SET maxmemory-policy noeviction, and in redis.conf)`,
				{ code: ErrorCode.BackendMisconfigured },
			);
		}
		const version = await client.hget(`${this.#options.prefix}:${ANY_PROCESS_QUEUE}:meta`, 'version');
		const major = version?.startsWith('bullmq:') ? Number.parseInt(version.slice('bullmq:'.length), 10) : undefined;
		if (major !== undefined && major !== 6) {
			client.disconnect();
			throw new BackendError(
				`The prefix '${this.#options.prefix}' on Redis at ${where} holds data written by BullMQ ${version?.slice('bullmq:'.length)}; this backend uses BullMQ 6: choose another \`prefix\`, or remove the old keys`,
				{ code: ErrorCode.BackendMisconfigured },
			);
		}
	}

	#every(ms: number, task: () => Promise<void>, whileClosing = false): ReturnType<typeof setInterval> {
		let running = false;
		const timer = setInterval(() => {
			if (running || (this.#closed && !whileClosing)) return;
			running = true;
			task()
				.catch((error: unknown) => this.#log.log('warn', 'Cluster housekeeping failed', { loop: '', err: error }))
				.finally(() => {
					running = false;
				});
		}, ms);
		timer.unref();
		this.#timers.push(timer);
		return timer;
	}

	#startWorker(queueName: string): void {
		const { Worker, DelayedError } = this.#spec.modules;
		const options = this.#options;
		const worker = new Worker(
			queueName,
			async (job: Job, token?: string) => {
				const data = job.data as TickData;
				const member = typeof data?.n === 'string' ? this.#members.get(data.n) : undefined;
				if (!member) {
					// Declared by another process (a rolling deploy): give it a chance at the tick.
					await job.moveToDelayed(Date.now() + UNDECLARED_RETRY_MS, token);
					throw new DelayedError();
				}
				await member.tick(job.id as string, data);
			},
			{
				connection: this.#workerConnection as Redis,
				prefix: options.prefix,
				concurrency: options.concurrency,
				lockDuration: options.lockDurationMs,
				stalledInterval: options.stalledIntervalMs,
				maxStalledCount: 1,
			},
		);
		worker.on('error', (error: Error) =>
			this.#log.log('warn', `Cluster worker error on queue '${queueName}'`, { loop: '', err: error }),
		);
		this.#workers.push(worker);
	}

	/** The BullMQ queue named `name` (made on first use, on the shared connection). */
	#queue(name: string): Queue {
		let queue = this.#queues.get(name);
		if (!queue) {
			const { Queue } = this.#spec.modules;
			queue = new Queue(name, { connection: this.#client as Redis, prefix: this.#options.prefix });
			queue.on('error', (error: Error) =>
				this.#log.log('warn', `Cluster queue error on '${name}'`, { loop: '', err: error }),
			);
			this.#queues.set(name, queue);
		}
		return queue;
	}

	/** Adds tick `jobId` of a loop to `queue`, due at `due` (ms since the epoch). */
	async addTick(queue: string, jobId: string, data: TickData, due: number): Promise<void> {
		await this.#queue(queue).add('tick', data, {
			jobId,
			delay: Math.max(0, due - Date.now()),
			removeOnComplete: true,
			removeOnFail: true,
		});
	}

	/** Removes a tick that has not begun (a tick already taken is left to its own check: it finds itself stale). */
	async removeTick(queue: string, jobId: string): Promise<void> {
		if (!jobId || !queue) return;
		try {
			await this.#queue(queue).remove(jobId);
		} catch {
			// Locked by a process running it: that process's begin script drops it.
		}
	}

	/** Runs one of the cluster scripts on a loop. */
	async run(script: ClusterScriptName, name: string, args: readonly (string | number)[]): Promise<unknown[]> {
		if (!this.#scripts) await this.connect();
		const keys = [this.#loopKey(name), this.#runningKey, this.#declaredKey].slice(0, CLUSTER_SCRIPTS[script].keys);
		const client = this.#client as Redis & Record<string, (...a: unknown[]) => Promise<unknown>>;
		const command = client[`dt_${script}`] as (...a: unknown[]) => Promise<unknown>;
		const result = await command.call(client, ...keys, this.#channel, name, ...args.map(String));
		return Array.isArray(result) ? result : [result];
	}

	/** Sets one field of a loop's hash (`count` changed mid-run). */
	async setField(name: string, field: string, value: string): Promise<void> {
		await this.connect();
		await (this.#client as Redis).hset(this.#loopKey(name), field, value);
	}

	/** Adds a loop this process declares; declared at once when the engine is connected. */
	add(member: ClusterMember): Promise<void> {
		this.#members.set(member.name, member);
		if (!this.#client || this.#closed) return this.connect();
		return this.#declare(member);
	}

	/** A loop's state as Redis holds it now (a process's mirror can be one control message behind). */
	async snapshot(name: string): Promise<ClusterSnapshot> {
		await this.connect();
		return this.#read(name);
	}

	async #read(name: string): Promise<ClusterSnapshot> {
		return toSnapshot(await (this.#client as Redis).hmget(this.#loopKey(name), ...SNAPSHOT_FIELDS));
	}

	async #declare(member: ClusterMember): Promise<void> {
		const { fingerprint, schedule } = member.definition();
		const [verdict, stored] = (await this.run('declare', member.name, [fingerprint, schedule, Date.now()])) as [
			'changed' | 'same',
			string,
		];
		// Not snapshot(): this runs inside connect() itself.
		member.declared(await this.#read(member.name), verdict, stored);
	}

	async #renewAlive(): Promise<void> {
		await (this.#client as Redis).set(`${this.alivePrefix}${this.instance}`, '1', 'PX', this.#options.lockDurationMs);
	}

	async #heartbeat(): Promise<void> {
		if (this.#members.size === 0) return;
		const now = Date.now();
		const args: (string | number)[] = [];
		for (const name of this.#members.keys()) args.push(now, name);
		await (this.#client as Redis).zadd(this.#declaredKey, ...args);
	}

	async #watch(): Promise<void> {
		const client = this.#client as Redis;
		const options = this.#options;
		if (this.#passWatch) {
			// Last turn found a step to take over in a loop this process does not declare: let another process watch.
			this.#passWatch = false;
			return;
		}
		const lease = await client.set(`${options.prefix}:watchdog`, this.instance, 'PX', options.watchdogMs, 'NX');
		if (lease !== 'OK') return;
		const now = Date.now();
		// A tick is lost when it is this late and gone: longer than a lock and a stalled check, so that a tick BullMQ
		// is about to recover is not doubled.
		const grace = options.lockDurationMs + options.stalledIntervalMs;
		const [repairs, removed, orphans] = (await this.run('watch', '', [
			`${options.prefix}:loop:`,
			`${options.prefix}:`,
			now,
			grace,
			now - options.staleAfterMs,
			this.alivePrefix,
		])) as [string[], string[], string[]];
		for (let i = 0; i + 4 < repairs.length; i += 5) {
			const [name, job, queue, gen, due] = repairs.slice(i, i + 5) as [string, string, string, string, string];
			this.#log.log('warn', `Loop '${name}' had lost its next tick (a process died between two steps): rescheduled`, {
				loop: name,
			});
			await this.addTick(queue, job, { n: name, g: Number(gen), t: Number(due) }, Number(due));
		}
		for (let i = 0; i + 2 < removed.length; i += 3) {
			const [name, job, queue] = removed.slice(i, i + 3) as [string, string, string];
			this.#log.log('info', `Loop '${name}' is declared by no process any more: removed from the cluster`, {
				loop: name,
			});
			await this.removeTick(queue, job);
		}
		for (let i = 0; i + 2 < orphans.length; i += 3) {
			const [name, gen, owner] = orphans.slice(i, i + 3) as [string, string, string];
			// Only a process that declares the loop has its hooks; another one's watchdog turn will adopt it. Its own
			// step is this process's to finish: its key lapsed (a Redis blip), and the next renewal brings it back.
			const member = this.#members.get(name);
			if (!member) this.#passWatch = true;
			if (!member || owner === this.instance) continue;
			this.#log.log(
				'warn',
				`Loop '${name}': process '${owner}' died during the run's start-up or wrap-up; this process takes it over`,
				{ loop: name },
			);
			await member.adopt(Number(gen), owner);
		}
	}

	#onControl(raw: string): void {
		let message: { n?: unknown; e?: unknown; x?: unknown; s?: unknown };
		try {
			message = JSON.parse(raw) as typeof message;
		} catch {
			return;
		}
		if (typeof message.n !== 'string' || typeof message.e !== 'string') return;
		const member = this.#members.get(message.n);
		if (!member) return;
		const snapshot =
			Array.isArray(message.s) && message.s.length === SNAPSHOT_FIELDS.length ? toSnapshot(message.s) : undefined;
		try {
			member.control({ event: message.e, extra: typeof message.x === 'string' ? message.x : '', snapshot });
		} catch (error) {
			this.#log.log('error', `Handling a control message of loop '${message.n}' failed`, { loop: '', err: error });
		}
	}

	/**
	 * Leaves the cluster: stops taking ticks, lets the ticks running here finish for up to `timeoutMs` (then aborts
	 * them: each is given up as lost and the next tick is scheduled for the other processes), and disconnects. The
	 * cluster's loops keep running in the other processes.
	 */
	async close(timeoutMs: number): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		for (const timer of this.#timers) if (timer !== this.#aliveTimer) clearInterval(timer);
		if (this.#connecting !== undefined) await this.#connecting.catch(() => {});
		let timer: ReturnType<typeof setTimeout> | undefined;
		const deadline = new Promise<void>((resolve) => {
			timer = setTimeout(() => {
				for (const member of this.#members.values()) member.abandon();
				resolve();
			}, timeoutMs);
		});
		await Promise.race([Promise.all(this.#workers.map((worker) => worker.close())), deadline]);
		await Promise.all(this.#workers.map((worker) => worker.close()));
		clearTimeout(timer);
		await Promise.all([...this.#queues.values()].map((queue) => queue.close()));
		// Gone: what this process was doing between ticks can be taken over at once (its own launch or finish, should it
		// still come, is then refused). Only on a live connection: a command on one that never connected (or was
		// dropped) would wait in ioredis's offline queue for good.
		clearInterval(this.#aliveTimer);
		if (this.#client?.status === 'ready') {
			await this.#client.del(`${this.alivePrefix}${this.instance}`).catch(() => {});
		}
		for (const connection of [this.#subscriber, this.#workerConnection, this.#client]) {
			if (connection && connection.status !== 'end') await connection.quit().catch(() => connection.disconnect());
		}
	}
}

function toSnapshot(fields: readonly unknown[]): ClusterSnapshot {
	const snapshot: Record<string, string | null> = {};
	SNAPSHOT_FIELDS.forEach((field, index) => {
		const value = fields[index];
		snapshot[field] = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
	});
	return snapshot as ClusterSnapshot;
}

/** ioredis options from the backend's `connection`. */
function redisOptions(connection: ResolvedBackendOptions['connection'], extra: RedisOptions): RedisOptions {
	if (typeof connection !== 'string') return { ...(connection as RedisOptions), ...extra };
	const url = new URL(connection);
	const db = url.pathname.length > 1 ? Number.parseInt(url.pathname.slice(1), 10) : undefined;
	return {
		host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
		port: url.port ? Number(url.port) : 6379,
		...(url.username ? { username: decodeURIComponent(url.username) } : {}),
		...(url.password ? { password: decodeURIComponent(url.password) } : {}),
		...(db !== undefined && Number.isInteger(db) ? { db } : {}),
		...(url.protocol === 'rediss:' ? { tls: {} } : {}),
		...extra,
	};
}

/** Where Redis is, for messages, without the password. */
function describeConnection(connection: ResolvedBackendOptions['connection']): string {
	if (typeof connection === 'string') {
		const url = new URL(connection);
		url.password = '';
		url.username = '';
		return url.toString().replace(/\/$/, '');
	}
	const { host = '127.0.0.1', port = 6379 } = connection as RedisOptions;
	return `${host}:${port}`;
}
