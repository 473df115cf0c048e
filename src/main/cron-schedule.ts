import { Cron, type CronOptions } from 'croner';
import { describeValue, ErrorCode, InvalidOptionError } from '../protocol/index.js';
import { assertTimeZone, timeZoneOffsetMs } from './time-of-day.js';

/** A validated cron pattern in a zone: computes fire times, holds no timers. Produced by {@link parseCron}. */
export interface CronSchedule {
	/** The pattern as given. */
	readonly pattern: string;
	/** The canonical zone name (see `assertTimeZone`). */
	readonly timeZone: string;
	/**
	 * The first fire time strictly after `now`.
	 *
	 * @param now - Milliseconds since the epoch.
	 * @returns Milliseconds since the epoch (always a whole second), or `null` if the pattern never fires again.
	 * @throws {@link InvalidOptionError} (`ERR_INVALID_ARGUMENT`) if `now` is not finite.
	 */
	next(now: number): number | null;
}

/**
 * How many schedules {@link parseCron} keeps for sharing. A croner `Cron` is ~84 KB (it holds a
 * 10,000-entry year array), and a bot has a handful of cron loops, so a small cap costs little and keeps
 * a program that builds patterns dynamically from holding megabytes. A plain Map in insertion order
 * makes an LRU: a hit is moved to the end, the first key is the one to drop. Eviction is harmless: a
 * dropped schedule stays referenced by whoever holds it and keeps working; only later parses of the same
 * pattern get a new instance. (A WeakRef cache would need FinalizationRegistry clean-up and would make
 * sharing depend on GC timing, which tests cannot pin down.)
 * @internal
 */
export const CRON_CACHE_CAPACITY = 64;
const schedules = new Map<string, CronSchedule>();

/** croner's `utcOffset` bound, in minutes. */
const MAX_CRON_OFFSET_MINUTES = 870;

/**
 * Validates a cron pattern (parsed by croner) and returns its schedule in `timeZone`.
 *
 * Accepts what croner accepts: 5 fields (minute precision), 6 (seconds first), 7 (years last),
 * nicknames such as `@daily`; day-of-month and day-of-week combine with OR, as in Vixie cron. Repeated
 * calls with the same pattern and zone return the same object, sharing one paused croner instance.
 *
 * DST follows croner, not discord.py's time-of-day rules: a fixed-time pattern (`30 2 * * *`) whose time
 * falls in a spring-forward gap fires at the first valid time after the gap (03:00, where a time-of-day
 * loop would use 03:30) and, in a fall-back overlap, fires once at the *first* occurrence; interval
 * patterns (`*\/30 * * * *`) skip the missing times and fire on both occurrences of repeated ones.
 *
 * @param pattern - The cron pattern.
 * @param timeZone - The zone the pattern is read in (see `assertTimeZone`).
 * @param option - The option name used in errors.
 * @returns The schedule.
 * @throws {@link InvalidOptionError} if the pattern is not a string croner accepts, names a date
 * instead of a pattern, can never fire, or the zone is invalid; croner's error is the `cause`.
 */
export function parseCron(pattern: unknown, timeZone: unknown = 'UTC', option = 'cron'): CronSchedule {
	if (typeof pattern !== 'string' || pattern.trim() === '') {
		throw new InvalidOptionError(
			option,
			`\`${option}\` must be a non-empty cron pattern such as '*/5 * * * *', got ${describeValue(pattern)}`,
		);
	}
	const zone = assertTimeZone(timeZone, 'timeZone');
	// Zone names contain no newline, so the key cannot collide between pairs.
	const key = `${zone}\n${pattern}`;
	const cached = schedules.get(key);
	if (cached !== undefined) {
		schedules.delete(key);
		schedules.set(key, cached);
		return cached;
	}
	const schedule = createSchedule(pattern, zone, option);
	if (schedules.size >= CRON_CACHE_CAPACITY) {
		const oldest = schedules.keys().next();
		if (oldest.done !== true) schedules.delete(oldest.value);
	}
	schedules.set(key, schedule);
	return schedule;
}

function createSchedule(pattern: string, timeZone: string, option: string): CronSchedule {
	const cron = createCron(pattern, timeZone, option);
	const received = describeValue(pattern);
	// croner reads any string with a ':' as a one-off date ('2026-01-01T09:00'); a loop needs a pattern.
	if (cron.getPattern() === undefined) {
		throw new InvalidOptionError(
			option,
			`\`${option}\` must be a cron pattern such as '0 9 * * *', not a date, got ${received}`,
		);
	}
	// A pattern such as '0 0 30 2 *' parses but never fires; say so now rather than letting a loop idle forever.
	if (cron.nextRun(new Date(0)) === null) {
		throw new InvalidOptionError(option, `\`${option}\` must match at least one time after 1970, got ${received}`);
	}
	return Object.freeze({
		pattern,
		timeZone,
		next(now: number): number | null {
			if (!Number.isFinite(now)) {
				throw new InvalidOptionError(
					'now',
					`\`now\` must be a finite number of ms since the epoch, got ${describeValue(now)}`,
					{ code: ErrorCode.InvalidArgument },
				);
			}
			// croner drops the milliseconds of the reference and steps at least one second, so the result is
			// strictly after `now` even when `now` is itself a fire time.
			return cron.nextRun(new Date(now))?.getTime() ?? null;
		},
	});
}

function createCron(pattern: string, timeZone: string, option: string): Cron {
	const options: CronOptions = { paused: true };
	// UTC and '±HH:MM' zones go through croner's `utcOffset`, plain arithmetic; only real IANA zones
	// need croner's Intl path (which would also reject the offset spellings Node 20's Intl lacks).
	if (timeZone === 'UTC' || timeZone.startsWith('+') || timeZone.startsWith('-')) {
		const minutes = timeZoneOffsetMs(timeZone, 0) / 60_000;
		if (Math.abs(minutes) > MAX_CRON_OFFSET_MINUTES) {
			throw new InvalidOptionError(
				'timeZone',
				`\`timeZone\` must be an offset from -14:30 to +14:30 for a cron pattern, got ${describeValue(timeZone)}`,
			);
		}
		options.utcOffset = minutes;
	} else {
		options.timezone = timeZone;
	}
	try {
		// No callback and `paused`: croner starts no timer; the instance is only used to compute fire times.
		return new Cron(pattern, options);
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error);
		throw new InvalidOptionError(
			option,
			`\`${option}\` must be a valid cron pattern, got ${describeValue(pattern)}: ${reason}`,
			{ cause: error },
		);
	}
}
