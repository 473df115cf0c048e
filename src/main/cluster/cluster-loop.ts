import {
	assertKnownKeys,
	describeValue,
	deserializeError,
	ErrorCode,
	InvalidOptionError,
	LoopStateError,
	sanitizeSerializedError,
	serializeError,
	TaskAbortedError,
} from '../../protocol/index.js';
import { ExponentialBackoff } from '../backoff.js';
import { isThenable, Loop, type LoopEndReason, type LoopParts, LoopState, loopParts } from '../loop.js';
import { assertCount } from '../loop-options.js';
import {
	firstTarget,
	isExplicit,
	nextTarget,
	resolveSchedule,
	type Schedule,
	type ScheduleOptions,
	skipMissed,
} from '../schedule.js';
import type { ClusterEngine, ClusterMember, ClusterSnapshot, ControlMessage, TickData } from './cluster-engine.js';

/** How a cluster loop's tick is delivered when the process running it dies mid-body. */
export const Delivery = {
	/** The tick is lost, as in discord.py (the default): the next tick runs on schedule. */
	AtMostOnce: 'at-most-once',
	/** The tick runs again in another process, after the lock expires: for idempotent bodies. */
	AtLeastOnce: 'at-least-once',
} as const;
/** One of the {@link Delivery} values. */
export type Delivery = (typeof Delivery)[keyof typeof Delivery];

/** The options a controller with a `backend` adds to `loop()`'s. */
export interface ClusterLoopOptions {
	/** What happens to a tick whose process dies mid-body. @defaultValue `'at-most-once'` */
	readonly delivery?: Delivery;
	/**
	 * Run the body in the process that holds this guild's shard (`(guild_id >> 22) % shardCount`), so a main-thread
	 * body can read that guild from its client's cache. @defaultValue any process that declares the loop
	 */
	readonly runOn?: { readonly guildId: string };
}

/** @internal */
export const CLUSTER_LOOP_OPTION_KEYS: readonly string[] = ['delivery', 'runOn'];

const SNOWFLAKE = /^\d{17,20}$/;

/** Checks the cluster options of a loop. @internal */
export function checkClusterLoopOptions(options: ClusterLoopOptions): void {
	const { delivery, runOn } = options;
	if (delivery !== undefined && delivery !== Delivery.AtMostOnce && delivery !== Delivery.AtLeastOnce) {
		throw new InvalidOptionError(
			'delivery',
			`\`delivery\` must be 'at-most-once' or 'at-least-once', got ${describeValue(delivery)}`,
		);
	}
	if (runOn !== undefined) {
		if (typeof runOn !== 'object' || runOn === null) {
			throw new InvalidOptionError('runOn', `\`runOn\` must be { guildId }, got ${describeValue(runOn)}`);
		}
		assertKnownKeys(runOn, new Set(['guildId']), 'runOn', {}, 'runOn');
		if (typeof runOn.guildId !== 'string' || !SNOWFLAKE.test(runOn.guildId)) {
			throw new InvalidOptionError(
				'runOn.guildId',
				`\`runOn.guildId\` must be a guild id (a snowflake string), got ${describeValue(runOn.guildId)}`,
			);
		}
	}
}

/**
 * Refuses arguments that would not come back the same from JSON: they are stored in Redis and read by whichever
 * process runs the next tick.
 * @internal
 */
export function assertPortableArgs(args: readonly unknown[]): void {
	const problem = (value: unknown, path: string, depth: number): string | undefined => {
		if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
		if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} is ${value}`;
		if (depth > 64) return `${path} is nested more than 64 levels deep`;
		if (Array.isArray(value)) {
			for (let i = 0; i < value.length; i++) {
				if (!(i in value)) return `${path} has a hole at index ${i}`;
				const found = problem(value[i], `${path}[${i}]`, depth + 1);
				if (found) return found;
			}
			return undefined;
		}
		if (typeof value === 'object') {
			const prototype = Object.getPrototypeOf(value);
			if (prototype !== Object.prototype && prototype !== null) {
				return `${path} is ${describeValue(value)}, not a plain object`;
			}
			for (const [key, field] of Object.entries(value)) {
				const found = problem(field, `${path}.${key}`, depth + 1);
				if (found) return found;
			}
			return undefined;
		}
		return `${path} is ${describeValue(value)}`;
	};
	const found = problem([...args], 'args', 0);
	if (found) {
		throw new InvalidOptionError(
			'args',
			`The arguments of a cluster loop are stored in Redis as JSON, and ${found}: pass strings, numbers, booleans, null, arrays and plain objects (a Date as its getTime() or ISO string)`,
			{ code: ErrorCode.InvalidArgument },
		);
	}
}

/** What the start-up awaits reject with once the run is cancelled. */
const CANCELLED = Symbol('discord-tasks.clusterCancelled');

/** The schedule as JSON options: what the cluster stores and compares. @internal */
export function scheduleToJson(schedule: Schedule): string {
	switch (schedule.kind) {
		case 'interval':
			return JSON.stringify({ seconds: schedule.seconds, minutes: schedule.minutes, hours: schedule.hours });
		case 'time':
			return JSON.stringify({ time: schedule.slots });
		case 'cron':
			return JSON.stringify({ cron: schedule.cron.pattern, timeZone: schedule.cron.timeZone });
	}
}

interface Deferred {
	readonly promise: Promise<void>;
	readonly resolve: () => void;
	readonly reject: (error: unknown) => void;
}

function deferred(): Deferred {
	let resolve!: () => void;
	let reject!: (error: unknown) => void;
	const promise = new Promise<void>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	promise.catch(() => {});
	return { promise, resolve, reject };
}

/** A start-up under way in this process. */
interface StartUp {
	readonly gen: number;
	abandon: (() => void) | undefined;
	readonly controller: AbortController;
}

/** A tick running in this process. */
interface LocalTick {
	readonly gen: number;
	readonly controller: AbortController;
	/** This process is leaving: the tick is given up as lost, not cancelled. */
	abandoned: boolean;
}

/** Where a cluster loop is, per the mirrored state and phase. */
function stateOf(snapshot: ClusterSnapshot): LoopState {
	switch (snapshot.state) {
		case 'starting':
			return LoopState.Starting;
		case 'running':
			return snapshot.phase === 'running' ? LoopState.Running : LoopState.Waiting;
		case 'cancelling':
		case 'ending':
			return LoopState.Ending;
		default:
			return LoopState.Idle;
	}
}

const IDLE: ClusterSnapshot = {
	state: 'idle',
	gen: '0',
	iter: '0',
	phase: 'idle',
	due: null,
	stop: '0',
	failed: '0',
	ranBy: null,
	ranAt: null,
	successes: null,
	failures: null,
	retries: null,
	schedule: null,
	last: null,
	job: null,
	queue: null,
};

/** The cluster side of a loop's `status()`. */
export interface ClusterLoopStatus {
	/** The process that ran (or runs) the latest iteration, by its `processId`. */
	readonly lastIterationBy: string | null;
	/** When it began, ISO. */
	readonly lastIterationAt: string | null;
	/** The run's number: each `start()` and `restart()` begins a new one. */
	readonly generation: number;
	/** Iterations that succeeded, failed and retries made, cluster-wide, since the loop was first declared. */
	readonly successes: number;
	readonly failures: number;
	readonly retries: number;
}

/**
 * A {@link Loop} whose schedule and state live in Redis, shared by every process that declares it: each tick runs
 * once, in one process, and `start`/`stop`/`cancel`/`restart`/`changeInterval` from any process act on the one run.
 * Created by a {@link LoopController} with a `backend`; its API is the Loop's.
 *
 * The run is a state machine in the loop's Redis hash, changed only by the scripts of cluster-scripts.ts (each
 * atomic, each publishing the new state to every process):
 *
 * | state | entered by | left for |
 * | --- | --- | --- |
 * | idle | declared, `finish` | starting (`start`, or `finish` of a run a `restart()` queued) |
 * | starting | `start`: this process runs the gate and `beforeLoop` | running (`launch`: the first tick is added), cancelling |
 * | running, phase waiting | `launch`, `end` of a tick (the next tick is added) | phase running (`begin`), ending (`cancel`) |
 * | running, phase running | `begin`: a process took the tick | phase waiting, ending (`end`), cancelling (`cancel`: the body aborts) |
 * | cancelling | `cancel` | ending (the process that ran the body, or the one that took the tick after a crash) |
 * | ending | `end` (count, stop, failure, cancel), `cancel` of a sleeping run | idle (`finish`, after `afterLoop` in the process that ended the run) |
 *
 * Ticks are BullMQ jobs with ids `<name>/<generation>/<sequence>`: the next tick is added when the previous one is
 * over, so two ticks of one loop never overlap, and a tick that is not the run's current one finds itself stale.
 */
export class ClusterLoop<Args extends readonly unknown[] = readonly unknown[]> extends Loop<Args> {
	readonly #engine: ClusterEngine;
	readonly #parts: LoopParts<Args>;
	readonly #delivery: Delivery;
	readonly #queue: string;
	readonly #declaredSchedule: string;
	/** The schedule in use, as the cluster stores it; set with it by {@link ClusterLoop.#setSchedule}. */
	#scheduleJson: string;
	#mirror: ClusterSnapshot = IDLE;
	#ready: Promise<void>;
	/** Starts and restarts called here whose script has not answered yet: `isRunning()` is true at once. */
	#calls = 0;
	/** Settles when run `gen` ends, for the `start()`/`restart()` calls of this process. */
	readonly #runs = new Map<number, Deferred>();
	/** The error that ended run `gen`, when this process ended it: the real one, not the summary. */
	#endError: { readonly gen: number; readonly error: unknown } | undefined;
	/** The start-up under way here, to abandon on `cancel()`. */
	#startUp: StartUp | undefined;
	#tick: LocalTick | undefined;
	#endingCancelled = false;

	/** @internal Made by `LoopController#loop` with a backend. */
	constructor(
		options: ConstructorParameters<typeof Loop<Args>>[0],
		engine: ClusterEngine,
		clusterOptions: ClusterLoopOptions,
	) {
		super(options);
		this.#engine = engine;
		this.#parts = loopParts<Args>(this);
		this.#delivery = clusterOptions.delivery ?? Delivery.AtMostOnce;
		this.#queue = engine.queueFor(clusterOptions.runOn?.guildId);
		this.#declaredSchedule = scheduleToJson(this.#parts.schedule());
		this.#scheduleJson = this.#declaredSchedule;
		this.#ready = engine.add(this.#member());
		this.#ready.catch(() => {});
	}

	/** Resolves once this process has declared the loop to the cluster (rejects with the backend's error). */
	get ready(): Promise<void> {
		return this.#ready;
	}

	// ---- state, from the mirror ------------------------------------------------------------------------------

	override get state(): LoopState {
		if (this.#mirror.state === 'idle' && this.#calls > 0) return LoopState.Starting;
		return stateOf(this.#mirror);
	}
	override isRunning(): boolean {
		return this.#mirror.state !== 'idle' || this.#calls > 0;
	}
	override isBeingCancelled(): boolean {
		return this.#endingCancelled;
	}
	override failed(): boolean {
		return this.#mirror.failed === '1';
	}
	override get currentLoop(): number {
		return this.#mirror.state === 'idle' ? 0 : Number(this.#mirror.iter ?? 0);
	}
	override get nextIteration(): Date | null {
		const m = this.#mirror;
		if (m.state !== 'running' || m.phase !== 'waiting' || m.stop === '1' || !m.due) return null;
		return new Date(Number(m.due));
	}
	override get signal(): AbortSignal | undefined {
		return this.#tick?.controller.signal ?? this.#startUp?.controller.signal;
	}
	override get count(): number | null {
		return super.count;
	}
	override set count(value: number | null) {
		super.count = assertCount(value);
		if (this.#mirror.state !== 'idle') {
			this.#engine.setField(this.name, 'count', value === null ? '' : String(value)).catch((error: unknown) => {
				this.#parts.logger.error(`Changing the count of loop '${this.name}' failed`, error);
			});
		}
	}

	/** The cluster's side of this loop: who ran the latest iteration, and the cluster-wide counters. */
	get cluster(): ClusterLoopStatus {
		const m = this.#mirror;
		return {
			lastIterationBy: m.ranBy,
			lastIterationAt: m.ranAt ? new Date(Number(m.ranAt)).toISOString() : null,
			generation: Number(m.gen ?? 0),
			successes: Number(m.successes ?? 0),
			failures: Number(m.failures ?? 0),
			retries: Number(m.retries ?? 0),
		};
	}

	// ---- control ----------------------------------------------------------------------------------------------

	/**
	 * Starts the cluster-wide run. Throws at once when this process knows a run is under way; when another process
	 * started one a moment before, the promise rejects with the same `ERR_LOOP_ALREADY_RUNNING`.
	 * @throws {@link InvalidOptionError} (`ERR_ARGS_NOT_PORTABLE`) for arguments JSON cannot carry.
	 */
	override start(...args: Args): Promise<void> {
		if (this.isRunning()) throw this.#alreadyRunning();
		return this.#start(args, false);
	}

	/**
	 * `start()`, or the promise of the run under way, wherever it was started: what `tasks.start(name)` does, in
	 * every process of the bot at once.
	 * @internal
	 */
	startOrAttach(args: Args): Promise<void> {
		if (this.isRunning()) return this.#runFor(Number(this.#mirror.gen ?? 0)).promise;
		return this.#start(args, true);
	}

	#start(args: Args, attach: boolean): Promise<void> {
		this.#parts.executor.checkArgs?.(args);
		assertPortableArgs(args);
		const json = JSON.stringify(args);
		this.#calls++;
		const run = (async () => {
			try {
				await this.#ready;
				const count = this.count;
				const [started, gen] = (await this.#engine.run('start', this.name, [
					json,
					this.#engine.processId,
					count === null ? '' : count,
					this.#engine.instance,
				])) as [number, number];
				if (started !== 1) {
					if (attach) return this.#runFor(gen).promise;
					throw this.#alreadyRunning();
				}
				const done = this.#runFor(gen);
				void this.#runStartUp(gen);
				return done.promise;
			} finally {
				this.#calls--;
			}
		})();
		run.catch(() => {});
		return run;
	}

	override stop(): void {
		this.#engine.run('stop', this.name, []).catch((error: unknown) => this.#report('stop()', error));
	}

	override cancel(): void {
		this.#cancel('');
	}

	override restart(...args: Args): Promise<void> {
		if (!this.isRunning()) return Promise.resolve();
		this.#parts.executor.checkArgs?.(args);
		assertPortableArgs(args);
		const gen = Number(this.#mirror.gen ?? 0) + 1;
		const done = this.#runFor(gen);
		this.#cancel(JSON.stringify(args));
		return done.promise;
	}

	override changeInterval(options: ScheduleOptions): this {
		// The local Loop validates and stores it (it has no local run to re-arm); the cluster's run is moved here.
		super.changeInterval(options);
		const schedule = this.#parts.schedule();
		this.#scheduleJson = scheduleToJson(schedule);
		this.#reschedule(schedule).catch((error: unknown) => this.#report('changeInterval()', error));
		return this;
	}

	override async [Symbol.asyncDispose](): Promise<void> {
		if (!this.isRunning()) return;
		const gen = Number(this.#mirror.gen ?? 0);
		const done = this.#runFor(gen);
		this.cancel();
		await done.promise.catch(() => {});
	}

	#alreadyRunning(): LoopStateError {
		return new LoopStateError(
			`Loop '${this.name}' is already running in the cluster: stop() or cancel() it first, or use restart()`,
			{ code: ErrorCode.LoopAlreadyRunning },
		);
	}

	#report(what: string, error: unknown): void {
		this.#parts.logger.error(`${what} of cluster loop '${this.name}' failed`, error);
	}

	#runFor(gen: number): Deferred {
		let run = this.#runs.get(gen);
		if (!run) {
			run = deferred();
			this.#runs.set(gen, run);
		}
		return run;
	}

	#cancel(pendingArgs: string): void {
		this.#engine
			.run('cancel', this.name, [pendingArgs, this.#engine.instance])
			.then(async (result) => {
				const [verdict, gen, job, queue] = result as [string, number, string, string];
				if (verdict === 'starting') this.#abandonStartUp(gen);
				else if (verdict === 'waiting') {
					await this.#engine.removeTick(queue, job);
					await this.#wrapUp(gen, 'cancelled', undefined);
				}
				// 'body': the process running it aborts it on the control message and ends the run.
			})
			.catch((error: unknown) => this.#report('cancel()', error));
	}

	/**
	 * Moves a sleeping run's pending tick to the new schedule (I3: an interval from the last target). The loop is
	 * read from Redis, not from this process's mirror, which can be a control message behind (the tick it knows of
	 * may have ended meanwhile); the script answers `again` when it moved on between the read and the call.
	 */
	async #reschedule(schedule: Schedule): Promise<void> {
		await this.#ready;
		for (let attempt = 0; attempt < 3; attempt++) {
			const m = await this.#engine.snapshot(this.name);
			let due = '';
			if (m.state === 'running' && m.phase === 'waiting' && m.last) {
				const last = Number(m.last);
				const now = this.#parts.clock.now();
				const target = schedule.kind === 'interval' ? last + schedule.intervalMs : nextTarget(schedule, last, now);
				if (target !== null) due = String(target + this.#jitter());
			}
			const [verdict, job] = (await this.#engine.run('reschedule', this.name, [
				m.gen ?? '0',
				m.job ?? '',
				scheduleToJson(schedule),
				due,
			])) as [string, string];
			if (verdict === 'again') continue;
			if (verdict === 'moved') {
				await this.#engine.removeTick(m.queue ?? this.#queue, m.job ?? '');
				await this.#engine.addTick(this.#queue, job, { n: this.name, g: Number(m.gen), t: Number(due) }, Number(due));
			}
			return;
		}
	}

	#setSchedule(schedule: Schedule): void {
		this.#parts.setSchedule(schedule);
		this.#scheduleJson = scheduleToJson(schedule);
	}

	#jitter(): number {
		return this.#parts.jitterMs > 0 ? this.#parts.random() * this.#parts.jitterMs : 0;
	}

	// ---- the run: start-up and wrap-up, in the process that does them ---------------------------------------

	/** The gate and `beforeLoop`, then the first tick. */
	async #runStartUp(gen: number): Promise<void> {
		const controller = new AbortController();
		const startUp: StartUp = { gen, abandon: undefined, controller };
		this.#startUp = startUp;
		try {
			const gate = this.#parts.gate;
			if (gate) await this.#guard(startUp, gate(controller.signal));
			const before = this.#parts.beforeLoop();
			if (before) await this.#guard(startUp, before());
		} catch (error) {
			this.#startUp = undefined;
			if (error === CANCELLED) return this.#finish(gen, 'cancelled', undefined);
			return this.#finish(gen, 'failed', await this.#parts.reportError(error));
		}
		this.#startUp = undefined;
		try {
			// The first tick is computed on this process's schedule; a `changeInterval()` elsewhere during the start-up
			// makes the script answer with the stored one, and it is computed again (as a tick's end does).
			let first: number | null;
			let due: number | '';
			let verdict: string;
			let job: string;
			for (let attempt = 0; ; attempt++) {
				const schedule = this.#parts.schedule();
				const now = this.#parts.clock.now();
				first = isExplicit(schedule) ? firstTarget(schedule, now) : now;
				due = first === null ? '' : first + (isExplicit(schedule) ? this.#jitter() : 0);
				const used = attempt < 3 ? this.#scheduleJson : '';
				[verdict, job] = (await this.#persist('launch', [gen, due, this.#queue, this.#engine.instance, used])) as [
					string,
					string,
				];
				if (verdict !== 'schedule' || used === '') break;
				this.#adoptSchedule(job);
			}
			if (verdict === 'ok') {
				await this.#engine.addTick(this.#queue, job, { n: this.name, g: gen, t: first as number }, Number(due));
			} else if (verdict === 'cancelled') await this.#finish(gen, 'cancelled', undefined);
			else if (verdict === 'ending') await this.#wrapUp(gen, 'completed', undefined);
		} catch (error) {
			this.#report('Starting', error);
		}
	}

	#guard<T>(startUp: StartUp, value: T | PromiseLike<T>): Promise<T> {
		return new Promise<T>((resolve, reject) => {
			startUp.abandon = () => reject(CANCELLED);
			Promise.resolve(value).then(resolve, reject);
		});
	}

	#abandonStartUp(gen: number): void {
		const startUp = this.#startUp;
		if (!startUp || startUp.gen !== gen) return;
		startUp.controller.abort(new TaskAbortedError(`Loop '${this.name}' was cancelled`));
		startUp.abandon?.();
	}

	/** The error hook (of a failure) and `afterLoop`, then the run is over. */
	async #wrapUp(gen: number, reason: LoopEndReason, error: unknown): Promise<void> {
		let failure = error;
		if (reason === 'failed') failure = await this.#parts.reportError(error);
		this.#endingCancelled = reason === 'cancelled';
		try {
			const after = this.#parts.afterLoop();
			if (after) await after();
		} catch (hookError) {
			reason = 'failed';
			failure = await this.#parts.reportError(hookError);
		} finally {
			this.#endingCancelled = false;
		}
		await this.#finish(gen, reason, failure);
	}

	async #finish(gen: number, reason: LoopEndReason, error: unknown): Promise<void> {
		if (reason === 'failed') this.#endError = { gen, error };
		try {
			const [verdict, next] = (await this.#persist('finish', [
				gen,
				reason,
				reason === 'failed' ? JSON.stringify(serializeError(error)) : '',
				this.#engine.processId,
				this.#engine.instance,
			])) as [string, number];
			if (verdict === 'restart') void this.#runStartUp(next);
		} catch (failure) {
			this.#report('Ending the run', failure);
		}
	}

	/**
	 * Runs the script that ends a start-up (`launch`) or a wrap-up (`finish`) until Redis has taken it: this process
	 * owns the step, and no other process takes it over while this one is alive, so giving up on a Redis error would
	 * leave the run stuck. Retried with a doubling delay (up to 5 s) until the engine closes.
	 */
	async #persist(script: 'launch' | 'finish', args: readonly (string | number)[]): Promise<unknown[]> {
		for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 5000)) {
			try {
				return await this.#engine.run(script, this.name, args);
			} catch (error) {
				if (this.#engine.closed) throw error;
				if (delayMs === 100) this.#report(`Redis refused '${script}' (retrying until it takes it)`, error);
				await new Promise((resolve) => setTimeout(resolve, delayMs));
			}
		}
	}

	// ---- ticks ------------------------------------------------------------------------------------------------

	async #runTick(jobId: string, data: TickData): Promise<void> {
		const engine = this.#engine;
		const parts = this.#parts;
		const { g: gen, t: target } = data;
		const begun = (await engine.run('begin', this.name, [
			gen,
			jobId,
			engine.processId,
			Date.now(),
			this.#delivery === Delivery.AtMostOnce ? '1' : '0',
			target,
			engine.instance,
		])) as [string, number, string];
		const [verdict, iteration, json] = begun;
		if (verdict === 'stale') return;
		if (verdict === 'cancelled') return this.#wrapUp(gen, 'cancelled', undefined);
		let outcome: 'ok' | 'failed' | 'lost' | 'cancelled' = 'lost';
		let failure: unknown;
		let retries = 0;
		if (verdict === 'run') {
			const tick: LocalTick = { gen, controller: new AbortController(), abandoned: false };
			this.#tick = tick;
			try {
				({ outcome, failure, retries } = await this.#attempts(tick, JSON.parse(json) as Args, iteration, target));
			} finally {
				this.#tick = undefined;
			}
		}
		// The next tick is computed on this process's schedule. A `changeInterval()` in another process while the body
		// ran may not have reached this one yet: the script then answers with the cluster's schedule, and the next
		// tick is computed again on it (checked at most three times, then taken as it is).
		let next: number | null = null;
		let due: number | '' = '';
		let ended: [string, number | string, string];
		for (let attempt = 0; ; attempt++) {
			const schedule = parts.schedule();
			const now = parts.clock.now();
			next = null;
			if (outcome === 'ok' || outcome === 'lost') {
				next = nextTarget(schedule, target, now);
				if (next !== null) next = skipMissed(schedule, next, now, parts.missed);
			}
			due = next === null ? '' : next + this.#jitter();
			const used = attempt < 3 ? this.#scheduleJson : '';
			ended = (await engine.run('end', this.name, [
				gen,
				jobId,
				outcome,
				due,
				retries,
				used,
				engine.instance,
			])) as typeof ended;
			if (ended[0] !== 'schedule' || used === '') break;
			this.#adoptSchedule(ended[1] as string);
		}
		const [result, , nextJob] = ended;
		if (result === 'stale' || result === 'schedule') return;
		if (result === 'next') {
			await engine.addTick(this.#queue, nextJob, { n: this.name, g: gen, t: next as number }, Number(due));
			return;
		}
		await this.#wrapUp(gen, result as LoopEndReason, failure);
	}

	/** The body, retried with discord.py's backoff in the same tick (before the next one, as locally). */
	async #attempts(
		tick: LocalTick,
		args: Args,
		iteration: number,
		target: number,
	): Promise<{ outcome: 'ok' | 'failed' | 'lost' | 'cancelled'; failure: unknown; retries: number }> {
		const parts = this.#parts;
		const signal = tick.controller.signal;
		const aborted = () => ({
			outcome: tick.abandoned ? ('lost' as const) : ('cancelled' as const),
			failure: undefined,
		});
		let backoff: ExponentialBackoff | undefined;
		let retries = 0;
		for (let retry = false; ; retry = true) {
			const startedAt = parts.clock.now();
			if (parts.hears('iterationStarted')) {
				parts.emit('iterationStarted', { iteration, target: new Date(target), retry, latenessMs: startedAt - target });
			}
			if (signal.aborted) return { ...aborted(), retries };
			try {
				const result = await raceAbort(
					parts.executor.execute({ args, iteration, loopName: this.name, signal, target, retry }),
					signal,
				);
				parts.emit('iterationCompleted', { iteration, durationMs: parts.clock.now() - startedAt, result });
				return { outcome: 'ok', failure: undefined, retries };
			} catch (error) {
				if (signal.aborted) return { ...aborted(), retries };
				const willRetry = this.reconnect && parts.isRetryable(error);
				parts.emit('iterationFailed', { iteration, durationMs: parts.clock.now() - startedAt, error, willRetry });
				if (!willRetry) return { outcome: 'failed', failure: error, retries };
				backoff ??= new ExponentialBackoff({ random: parts.random, now: () => parts.clock.now() });
				const delayMs = backoff.delay();
				parts.logger.warn(
					`Handling exception in loop '${this.name}'. Retrying in ${(delayMs / 1000).toFixed(2)}s`,
					error,
				);
				parts.emit('reconnecting', { iteration, error, delayMs });
				retries++;
				await abortableSleep(delayMs, signal);
				if (signal.aborted) return { ...aborted(), retries };
			}
		}
	}

	// ---- the engine's side ------------------------------------------------------------------------------------

	#member(): ClusterMember {
		return {
			name: this.name,
			definition: () => ({
				fingerprint: JSON.stringify({
					schedule: this.#declaredSchedule,
					queue: this.#queue,
					delivery: this.#delivery,
				}),
				schedule: this.#declaredSchedule,
			}),
			declared: (snapshot, verdict, schedule) => {
				this.#mirror = snapshot;
				if (verdict === 'same') this.#adoptSchedule(schedule);
				// A deploy changed the definition while a run sleeps: its pending tick moves to the new schedule.
				else if (snapshot.state === 'running' && snapshot.phase === 'waiting') {
					this.#reschedule(this.#parts.schedule()).catch((error: unknown) => this.#report('Rescheduling', error));
				}
			},
			tick: (jobId, data) => this.#runTick(jobId, data),
			control: (message) => this.#control(message),
			abandon: () => {
				const tick = this.#tick;
				if (!tick) return;
				tick.abandoned = true;
				tick.controller.abort(new TaskAbortedError(`Loop '${this.name}': this process is shutting down`));
			},
			adopt: (gen, owner) => this.#adopt(gen, owner),
		};
	}

	/**
	 * The watchdog found that process `owner` died during the start-up or the wrap-up of run `gen`: this process
	 * does that step instead. A start-up runs again here (the gate and `beforeLoop`, then the first tick); a
	 * wrap-up ends the run without `afterLoop`, which ran (or began) in the dead process: hooks, like ticks, run at
	 * most once.
	 */
	async #adopt(gen: number, owner: string): Promise<void> {
		const [state, phase, reason] = (await this.#engine.run('adopt', this.name, [
			gen,
			owner,
			this.#engine.alivePrefix,
			this.#engine.instance,
		])) as [string, string?, string?];
		if (state === 'starting') void this.#runStartUp(gen);
		else if (state === 'cancelling' && phase === 'starting') await this.#finish(gen, 'cancelled', undefined);
		else if (state === 'ending') {
			const ending = (reason || 'completed') as LoopEndReason;
			const error =
				ending === 'failed'
					? new Error(`Loop '${this.name}' failed in process '${owner}', which died before it ended the run`)
					: undefined;
			await this.#finish(gen, ending, error);
		}
	}

	#adoptSchedule(json: string | null): void {
		// Every control message carries the schedule: compared as the string it is, not re-serialised each time.
		if (!json || json === this.#scheduleJson) return;
		try {
			this.#setSchedule(resolveSchedule(JSON.parse(json) as ScheduleOptions));
		} catch (error) {
			this.#report('Reading the cluster schedule', error);
		}
	}

	#control({ event, extra, snapshot }: ControlMessage): void {
		if (event === 'removed') {
			this.#mirror = IDLE;
			return;
		}
		if (!snapshot) return;
		const previous = this.#mirror;
		this.#mirror = snapshot;
		this.#adoptSchedule(snapshot.schedule);
		const gen = Number(snapshot.gen ?? 0);
		switch (event) {
			case 'started':
				this.#parts.emit('loopStarted');
				return;
			case 'cancel': {
				this.#abandonStartUp(gen);
				const tick = this.#tick;
				if (tick && tick.gen === gen) tick.controller.abort(new TaskAbortedError(`Loop '${this.name}' was cancelled`));
				return;
			}
			case 'stopped':
				this.#stopped(gen, extra, previous);
				return;
		}
	}

	#stopped(gen: number, extra: string, _previous: ClusterSnapshot): void {
		let reason: LoopEndReason = 'stopped';
		let error: unknown;
		try {
			const parsed = JSON.parse(extra) as { reason?: LoopEndReason; error?: string };
			reason = parsed.reason ?? 'stopped';
			if (reason === 'failed') {
				const own = this.#endError;
				error =
					own && own.gen === gen
						? own.error
						: deserializeError(sanitizeSerializedError(parsed.error ? JSON.parse(parsed.error) : undefined, 0));
				if (own?.gen === gen) this.#endError = undefined;
			}
		} catch {}
		this.#parts.emit('loopStopped', reason === 'failed' ? { reason, error } : { reason });
		const run = this.#runs.get(gen);
		if (run) {
			this.#runs.delete(gen);
			if (reason === 'failed') run.reject(error);
			else run.resolve();
		}
	}
}

/** The value of `value`, unless `signal` aborts first (a main-thread body's result stops mattering, N3). */
function raceAbort<T>(value: T | PromiseLike<T>, signal: AbortSignal): Promise<T> {
	if (!isThenable(value)) return Promise.resolve(value);
	return new Promise<T>((resolve, reject) => {
		const onAbort = () => reject(signal.reason);
		if (signal.aborted) return onAbort();
		signal.addEventListener('abort', onAbort, { once: true });
		Promise.resolve(value).then(
			(result) => {
				signal.removeEventListener('abort', onAbort);
				resolve(result);
			},
			(error: unknown) => {
				signal.removeEventListener('abort', onAbort);
				reject(error);
			},
		);
	});
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal.aborted) return resolve();
		const timer = setTimeout(done, ms);
		function done() {
			clearTimeout(timer);
			signal.removeEventListener('abort', done);
			resolve();
		}
		signal.addEventListener('abort', done, { once: true });
	});
}
