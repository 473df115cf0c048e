import { describeValue, InvalidOptionError } from '../protocol/index.js';
import { type CronSchedule, parseCron } from './cron-schedule.js';
import { assertTimeZone, nextTimeOfDay, parseTimes, type TimeInput, type TimeOfDay } from './time-of-day.js';

/** When a loop runs: discord.py's relative interval, its `time=` slots, or a cron pattern. */
export type Schedule =
	| {
			readonly kind: 'interval';
			readonly seconds: number;
			readonly minutes: number;
			readonly hours: number;
			/** `seconds + 60 * minutes + 3600 * hours`, in ms. */
			readonly intervalMs: number;
	  }
	| { readonly kind: 'time'; readonly slots: readonly TimeOfDay[] }
	| { readonly kind: 'cron'; readonly cron: CronSchedule };

/** The schedule part of the loop options, shared by `loop()` and `Loop#changeInterval()`. */
export interface ScheduleOptions {
	/** Seconds between iterations (added to minutes and hours). @defaultValue 0 */
	readonly seconds?: number;
	/** Minutes between iterations. @defaultValue 0 */
	readonly minutes?: number;
	/** Hours between iterations. @defaultValue 0 */
	readonly hours?: number;
	/**
	 * Times of day to run at instead of an interval: `'09:30'`, `'09:30:15'` or `{ hour, minute?, second?, timeZone? }`,
	 * alone or in an array. Without a zone, `timeZone` (else UTC) applies, as discord.py assumes UTC.
	 */
	readonly time?: TimeInput | readonly TimeInput[];
	/** A cron pattern (croner syntax, seconds field optional) instead of an interval. */
	readonly cron?: string;
	/** IANA zone for `cron`, and for `time` entries that name none. @defaultValue 'UTC' */
	readonly timeZone?: string;
}

/** What happens to iterations an overrun (a slow body, or a retry) made late. */
export const MissedIterations = {
	/** Run once, late, then go back to the grid: the targets that passed meanwhile are dropped. */
	Skip: 'skip',
	/** discord.py's behaviour (A9, #9656): run every missed target back to back until caught up. */
	CatchUp: 'catchUp',
} as const;
/** One of the {@link MissedIterations} values. */
export type MissedIterations = (typeof MissedIterations)[keyof typeof MissedIterations];

const RELATIVE_KEYS = ['seconds', 'minutes', 'hours'] as const;

/** The keys of {@link ScheduleOptions}: all `changeInterval()` accepts. @internal */
export const SCHEDULE_OPTION_KEYS: ReadonlySet<string> = new Set([...RELATIVE_KEYS, 'time', 'cron', 'timeZone']);

function relativeComponent(options: ScheduleOptions, key: (typeof RELATIVE_KEYS)[number]): number {
	const value = options[key] as unknown;
	if (value === undefined || value === null) return 0;
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
		throw new InvalidOptionError(key, `\`${key}\` must be a finite number >= 0, got ${describeValue(value)}`);
	}
	return value;
}

/**
 * Validates the schedule options and builds the {@link Schedule} (C4–C11, I1). Nothing is assigned
 * anywhere until everything has been checked, so a refused `changeInterval()` leaves the loop untouched.
 *
 * @throws {@link InvalidOptionError} naming the option and the value it got.
 */
export function resolveSchedule(options: ScheduleOptions): Schedule {
	const seconds = relativeComponent(options, 'seconds');
	const minutes = relativeComponent(options, 'minutes');
	const hours = relativeComponent(options, 'hours');
	const timeZone = options.timeZone === undefined ? 'UTC' : assertTimeZone(options.timeZone, 'timeZone');
	const relative = RELATIVE_KEYS.filter((key) => options[key] !== undefined && options[key] !== 0);
	const given = (key: 'time' | 'cron') => options[key] !== undefined && options[key] !== null;
	if (given('time') && given('cron')) {
		throw new InvalidOptionError('cron', '`cron` cannot be combined with `time`: choose one way to schedule the loop');
	}
	for (const explicit of ['time', 'cron'] as const) {
		if (given(explicit) && relative.length > 0) {
			const first = relative[0] as (typeof RELATIVE_KEYS)[number];
			// C6: zero components next to `time` are accepted; non-zero ones are a mistake.
			throw new InvalidOptionError(
				explicit,
				`\`${explicit}\` cannot be combined with seconds/minutes/hours (got ${first}: ${String(options[first])})`,
			);
		}
	}
	if (given('time')) return { kind: 'time', slots: parseTimes(options.time, 'time', timeZone) };
	if (given('cron')) return { kind: 'cron', cron: parseCron(options.cron, timeZone, 'cron') };
	const intervalMs = (seconds + 60 * minutes + 3600 * hours) * 1000;
	return { kind: 'interval', seconds, minutes, hours, intervalMs };
}

/**
 * The first target of a run, computed right after `beforeLoop` (A4): now for an interval (the first body runs at
 * once), the next slot at or after now for `time` (T7: a slot that passed today runs tomorrow), the next cron fire.
 * Returns `null` when a cron pattern never fires again.
 */
export function firstTarget(schedule: Schedule, now: number): number | null {
	switch (schedule.kind) {
		case 'interval':
			return now;
		case 'time':
			return nextTimeOfDay(schedule.slots, now).at;
		case 'cron':
			return schedule.cron.next(now);
	}
}

/**
 * The target after `last` (A7.2). Interval loops are anchored to their previous target, not to the end of the
 * body, so they never drift (A9). Time and cron loops are recomputed from the clock (T10), strictly after
 * `last`: waking exactly at (or, through an early timer, just before) a slot can never pick the same slot
 * twice, which is what discord.py's early-wake guard (T8) protects against.
 */
export function nextTarget(schedule: Schedule, last: number, now: number): number | null {
	switch (schedule.kind) {
		case 'interval':
			return last + schedule.intervalMs;
		case 'time':
			return nextTimeOfDay(schedule.slots, Math.max(now, last + 1)).at;
		case 'cron':
			return schedule.cron.next(Math.max(now, last));
	}
}

/**
 * Applies the missed-iterations policy to the target that follows an iteration starting at `now`. `catchUp`
 * keeps it, even if it has passed (the loop then runs back to back until the schedule is caught up, A9).
 * `skip` moves a target that is not after `now` to the first point of the same grid (`target + k * interval`)
 * after `now`: the iteration starting at `now` is the one late run that stands for every target missed so far,
 * and the phase is kept, so nothing drifts.
 */
export function skipMissed(schedule: Schedule, target: number, now: number, policy: MissedIterations): number {
	if (policy === MissedIterations.CatchUp || schedule.kind !== 'interval' || target > now) return target;
	const { intervalMs } = schedule;
	if (intervalMs === 0) return now;
	return target + (Math.floor((now - target) / intervalMs) + 1) * intervalMs;
}

/** Whether the schedule is explicit (`time` or `cron`): discord.py's "explicit mode". */
export function isExplicit(schedule: Schedule): boolean {
	return schedule.kind !== 'interval';
}
