import { assertNumber, InvalidOptionError, MAX_SCHEDULE_MS, optionKeySet } from '../protocol/index.js';
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

/** What every kind of schedule may also say. */
interface CommonScheduleOptions {
	/** IANA zone for `cron`, and for `time` entries that name none. @defaultValue 'UTC' */
	readonly timeZone?: string;
}

/**
 * An interval schedule: `seconds`, `minutes` and `hours` add up (anchored, no drift); all 0 (or none given) means
 * back to back.
 */
export interface IntervalScheduleOptions extends CommonScheduleOptions {
	/** Seconds between iterations (added to minutes and hours). @defaultValue 0 */
	readonly seconds?: number;
	/** Minutes between iterations. @defaultValue 0 */
	readonly minutes?: number;
	/** Hours between iterations. @defaultValue 0 */
	readonly hours?: number;
	/** Not with an interval: a loop has one kind of schedule. */
	readonly time?: never;
	/** Not with an interval: a loop has one kind of schedule. */
	readonly cron?: never;
}

/** The interval fields next to `time` or `cron`: absent or 0 (discord.py accepts zeros there, C6). */
interface NoInterval {
	/** Only 0 next to `time` or `cron`. */
	readonly seconds?: 0;
	/** Only 0 next to `time` or `cron`. */
	readonly minutes?: 0;
	/** Only 0 next to `time` or `cron`. */
	readonly hours?: 0;
}

/** A times-of-day schedule. */
export interface TimeScheduleOptions extends CommonScheduleOptions, NoInterval {
	/**
	 * Times of day to run at instead of an interval: `'09:30'`, `'09:30:15'` or `{ hour, minute?, second?, timeZone? }`,
	 * alone or in an array. Without a zone, `timeZone` (else UTC) applies, as discord.py assumes UTC.
	 */
	readonly time: TimeInput | readonly TimeInput[];
	/** Not with `time`: a loop has one kind of schedule. */
	readonly cron?: never;
}

/** A cron schedule. */
export interface CronScheduleOptions extends CommonScheduleOptions, NoInterval {
	/** A cron pattern (croner syntax, seconds field optional) instead of an interval. */
	readonly cron: string;
	/** Not with `cron`: a loop has one kind of schedule. */
	readonly time?: never;
}

/**
 * The schedule part of the loop options, shared by `loop()` and `Loop#changeInterval()`: an interval, times of
 * day, or a cron pattern. A union, so that mixing two kinds (`{ seconds: 5, time: '09:00' }`) does not compile.
 */
export type ScheduleOptions = IntervalScheduleOptions | TimeScheduleOptions | CronScheduleOptions;

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
const UNIT_MS = { seconds: 1000, minutes: 60_000, hours: 3_600_000 } as const;

/** The keys of {@link ScheduleOptions}: all `changeInterval()` accepts. @internal */
export const SCHEDULE_OPTION_KEYS: ReadonlySet<string> = optionKeySet<ScheduleOptions>({
	seconds: true,
	minutes: true,
	hours: true,
	time: true,
	cron: true,
	timeZone: true,
});

function relativeComponent(options: ScheduleOptions, key: (typeof RELATIVE_KEYS)[number]): number {
	const value = options[key] as unknown;
	if (value === undefined || value === null) return 0;
	return assertNumber(value, key, { min: 0, max: MAX_SCHEDULE_MS / UNIT_MS[key] });
}

/** The interval in ms: 0 (back to back) or from 1 ms to {@link MAX_SCHEDULE_MS}. */
function intervalMs(seconds: number, minutes: number, hours: number): number {
	const ms = (seconds + 60 * minutes + 3600 * hours) * 1000;
	// Below 1 ms, `target + interval` rounds back to `target` (seconds: 1e-320) and the grid arithmetic of a late
	// loop divides by almost nothing: the next target becomes Infinity and the loop never wakes again.
	if (ms === 0 || (ms >= 1 && ms <= MAX_SCHEDULE_MS)) return ms;
	const option = seconds > 0 ? 'seconds' : minutes > 0 ? 'minutes' : 'hours';
	throw new InvalidOptionError(
		option,
		`The interval (seconds + minutes + hours) must be 0 or from 1 ms to ${MAX_SCHEDULE_MS} ms (100 years), got ${ms} ms`,
	);
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
	return { kind: 'interval', seconds, minutes, hours, intervalMs: intervalMs(seconds, minutes, hours) };
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
