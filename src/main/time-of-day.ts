import { describeValue, ErrorCode, InvalidOptionError } from '../protocol/index.js';

/**
 * A time of day given as an object. Unknown keys are refused, so a typo such as `minutes` fails loudly
 * instead of silently meaning minute 0.
 */
export interface TimeOfDayInput {
	/** Hour of the day, an integer from 0 to 23. */
	readonly hour: number;
	/**
	 * Minute of the hour, an integer from 0 to 59.
	 * @defaultValue `0`
	 */
	readonly minute?: number;
	/**
	 * Second of the minute, an integer from 0 to 59.
	 * @defaultValue `0`
	 */
	readonly second?: number;
	/**
	 * An IANA time zone (`'Europe/Berlin'`) or a fixed UTC offset (`'+09:00'`, `'-0530'`, `'+09'`).
	 * @defaultValue the `defaultTimeZone` given to {@link parseTimes} (`'UTC'` unless told otherwise)
	 */
	readonly timeZone?: string;
}

/** One time of day as a user may write it: `'HH:MM'` or `'HH:MM:SS'` (24-hour, in UTC) or a {@link TimeOfDayInput}. */
export type TimeInput = string | TimeOfDayInput;

/** A validated time of day: a wall-clock time in a named zone. Produced by {@link parseTimes}. */
export interface TimeOfDay {
	readonly hour: number;
	readonly minute: number;
	readonly second: number;
	/** The zone's name as `Intl` reports it (`'asia/tokyo'` becomes `'Asia/Tokyo'`), or a `'±HH:MM'` offset. */
	readonly timeZone: string;
}

const SECONDS_PER_DAY = 86_400;
const DAY_MS = SECONDS_PER_DAY * 1000;

/** 'HH:MM' or 'HH:MM:SS'; ranges are checked after the match so '24:00' gets the same message as 'noon'. */
const TIME_STRING = /^(\d{2}):(\d{2})(?::(\d{2}))?$/;
/** The offset forms ECMA-402 accepts as a time zone (`±HH`, `±HHMM`, `±HH:MM`); Node 20's Intl does not yet. */
const OFFSET_ZONE = /^([+-])(\d{2})(?::?(\d{2}))?$/;
const TIME_OF_DAY_KEYS: ReadonlySet<string> = new Set(['hour', 'minute', 'second', 'timeZone']);

/**
 * One formatter per zone name: creating an `Intl.DateTimeFormat` costs tens of microseconds, formatting
 * with an existing one a few. The key set is bounded by the tz database (plus case variants), but a
 * program that feeds us arbitrary valid spellings must not grow the map forever, hence the cap.
 */
const MAX_CACHED_ZONES = 1000;
interface ZoneEntry {
	readonly formatter: Intl.DateTimeFormat;
	readonly name: string;
}
const zones = new Map<string, ZoneEntry>();

function zoneEntry(timeZone: string): ZoneEntry {
	let entry = zones.get(timeZone);
	if (entry === undefined) {
		// Throws a RangeError for an unknown zone, before anything is cached.
		const formatter = new Intl.DateTimeFormat('en-US', {
			timeZone,
			hourCycle: 'h23',
			year: 'numeric',
			month: 'numeric',
			day: 'numeric',
			hour: 'numeric',
			minute: 'numeric',
			second: 'numeric',
		});
		entry = { formatter, name: formatter.resolvedOptions().timeZone };
		if (zones.size >= MAX_CACHED_ZONES) zones.clear();
		zones.set(timeZone, entry);
	}
	return entry;
}

/** Offset in ms of a `±HH[[:]MM]` zone, or `undefined` if `zone` is not written that way. */
function parseOffsetZone(zone: string): number | undefined {
	const match = OFFSET_ZONE.exec(zone);
	if (match === null) return undefined;
	const hours = Number(match[2]);
	const minutes = Number(match[3] ?? '0');
	if (hours > 23 || minutes > 59) return undefined;
	return (match[1] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

function formatOffsetZone(offsetMs: number): string {
	const totalMinutes = Math.abs(offsetMs) / 60_000;
	// '-00:00' is written '+00:00', as Temporal does, so both spellings dedupe and cache as one zone.
	const sign = offsetMs < 0 ? '-' : '+';
	return `${sign}${pad2(Math.floor(totalMinutes / 60))}:${pad2(totalMinutes % 60)}`;
}

/** Offset of a zone that needs no tz database lookup (UTC or a written offset), else `undefined`. */
function arithmeticOffset(timeZone: string): number | undefined {
	return timeZone === 'UTC' ? 0 : parseOffsetZone(timeZone);
}

/** Zones whose offset never changes: their slots can be compared by UTC time of day. */
function isFixedOffsetZone(timeZone: string): boolean {
	// Every `Etc/` zone (Etc/UTC, Etc/GMT-9, ...) is a fixed offset by definition of the tz database.
	return arithmeticOffset(timeZone) !== undefined || timeZone.startsWith('Etc/');
}

function pad2(value: number): string {
	return String(value).padStart(2, '0');
}

/** `((value % divisor) + divisor) % divisor`: a remainder that is never negative. */
function modulo(value: number, divisor: number): number {
	return ((value % divisor) + divisor) % divisor;
}

/**
 * Milliseconds since the epoch of a wall-clock reading taken as if it were UTC. Out-of-range fields
 * overflow into the next unit (day 32 of January is 1 February), which callers use to step days.
 * `Date.UTC` is avoided because it maps years 0–99 to 1900–1999.
 */
function wallClockAsUtc(
	year: number,
	month: number,
	day: number,
	hour: number,
	minute: number,
	second: number,
): number {
	const date = new Date(0);
	date.setUTCFullYear(year, month - 1, day);
	date.setUTCHours(hour, minute, second, 0);
	return date.getTime();
}

interface WallClock {
	readonly year: number;
	readonly month: number;
	readonly day: number;
	readonly hour: number;
	readonly minute: number;
	readonly second: number;
}

/** The wall clock shown in `timeZone` at `instant` (to the second). */
function wallClockAt(timeZone: string, instant: number): WallClock {
	const offset = arithmeticOffset(timeZone);
	if (offset !== undefined) {
		const date = new Date(instant + offset);
		return {
			year: date.getUTCFullYear(),
			month: date.getUTCMonth() + 1,
			day: date.getUTCDate(),
			hour: date.getUTCHours(),
			minute: date.getUTCMinutes(),
			second: date.getUTCSeconds(),
		};
	}
	const fields = { year: Number.NaN, month: Number.NaN, day: Number.NaN, hour: Number.NaN, minute: 0, second: 0 };
	for (const part of zoneEntry(timeZone).formatter.formatToParts(instant)) {
		switch (part.type) {
			case 'year':
			case 'month':
			case 'day':
			case 'hour':
			case 'minute':
			case 'second':
				fields[part.type] = Number(part.value);
				break;
			default:
				break;
		}
	}
	// Some ICU builds print midnight as 24 even with hourCycle 'h23'.
	if (fields.hour === 24) fields.hour = 0;
	return fields;
}

/**
 * Validates a time zone and returns its canonical spelling.
 *
 * IANA names are checked with `Intl` and returned as `Intl` reports them (`'asia/tokyo'` →
 * `'Asia/Tokyo'`). Fixed offsets `±HH`, `±HHMM` and `±HH:MM` are accepted too (Node 20's `Intl` does not
 * know them yet) and returned as `'±HH:MM'`.
 *
 * @param zone - The value to check.
 * @param option - The option name used in the error, e.g. `'time[0].timeZone'`.
 * @returns The canonical zone name.
 * @throws {@link InvalidOptionError} if `zone` is not a string naming a known zone or an offset.
 */
export function assertTimeZone(zone: unknown, option: string): string {
	const expected = `\`${option}\` must be an IANA time zone such as 'Europe/Berlin' or a UTC offset such as '+09:00'`;
	if (typeof zone !== 'string' || zone === '') {
		throw new InvalidOptionError(option, `${expected}, got ${describeValue(zone)}`);
	}
	const offset = parseOffsetZone(zone);
	if (offset !== undefined) return formatOffsetZone(offset);
	try {
		return zoneEntry(zone).name;
	} catch (error) {
		throw new InvalidOptionError(option, `${expected}, got ${describeValue(zone)}`, { cause: error });
	}
}

/**
 * The offset of `timeZone` from UTC at `instant`: local time minus UTC, in ms (`+32_400_000` for Tokyo).
 *
 * @param timeZone - A zone accepted by {@link assertTimeZone}.
 * @param instant - Milliseconds since the epoch.
 * @returns The offset in milliseconds; whole seconds, as the tz database has no finer offsets.
 * @throws RangeError if `timeZone` is unknown (validate it with {@link assertTimeZone} first).
 */
export function timeZoneOffsetMs(timeZone: string, instant: number): number {
	const offset = arithmeticOffset(timeZone);
	if (offset !== undefined) return offset;
	const wall = wallClockAt(timeZone, instant);
	const wallMs = wallClockAsUtc(wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second);
	// The formatter drops milliseconds, so compare with the instant truncated to its second.
	return wallMs - (instant - modulo(instant, 1000));
}

/**
 * The instant at which a wall-clock time occurs in a zone, resolving DST as discord.py does (T4).
 *
 * - A time that does not exist (spring-forward gap) moves forward by the size of the gap:
 *   02:30 America/New_York on 2022-03-13 is 03:30 EDT, 07:30 UTC.
 * - A time that occurs twice (fall-back overlap) resolves to the *second* occurrence, in standard time:
 *   01:30 America/New_York on 2022-11-06 is 01:30 EST, 06:30 UTC.
 *
 * Out-of-range fields overflow like `Date.UTC` (day 0 is the last day of the previous month).
 *
 * @param year - Full year.
 * @param month - Month, 1–12.
 * @param day - Day of the month, 1–31.
 * @param hour - Hour, 0–23.
 * @param minute - Minute, 0–59.
 * @param second - Second, 0–59.
 * @param timeZone - A zone accepted by {@link assertTimeZone}.
 * @returns Milliseconds since the epoch.
 * @throws RangeError if `timeZone` is unknown (validate it with {@link assertTimeZone} first).
 */
export function zonedDateTimeToInstant(
	year: number,
	month: number,
	day: number,
	hour: number,
	minute: number,
	second: number,
	timeZone: string,
): number {
	const wall = wallClockAsUtc(year, month, day, hour, minute, second);
	const fixed = arithmeticOffset(timeZone);
	if (fixed !== undefined) return wall - fixed;
	// The offsets a day either side bracket any transition near this wall time (offsets stay within
	// ±14 h, so `wall ± 1 day` is on the right side of it), as in discord.py's `resolve_datetime`.
	const before = timeZoneOffsetMs(timeZone, wall - DAY_MS);
	const after = timeZoneOffsetMs(timeZone, wall + DAY_MS);
	const readBefore = wall - before;
	if (before === after) return readBefore;
	const readAfter = wall - after;
	// A reading is real if the zone shows this wall time at that instant, i.e. its offset holds there.
	const beforeIsReal = timeZoneOffsetMs(timeZone, readBefore) === before;
	const afterIsReal = timeZoneOffsetMs(timeZone, readAfter) === after;
	if (beforeIsReal && afterIsReal) return Math.max(readBefore, readAfter); // overlap: the second occurrence
	if (afterIsReal) return readAfter;
	// Either the only real reading, or a gap: read with the offset from before the jump, which lands
	// the wall time past the gap by exactly the gap's size (02:30 EST = 03:30 EDT).
	return readBefore;
}

/**
 * The next time one of `slots` comes round, at or after `now` (T2): the soonest instant across all slots.
 *
 * Each slot is dated today in its own zone (DST-resolved as in {@link zonedDateTimeToInstant}); if that
 * is before `now` it is dated tomorrow. A slot exactly at `now` counts (inclusive, T3), so after running
 * a slot at `t`, ask for the next one with `now = t + 1` or later. Nothing is remembered between calls
 * (T10): the answer depends only on the arguments.
 *
 * Unlike discord.py, the answer is the minimum over all slots, not the first qualifying slot in list
 * order, so slots in different zones are never skipped (fixes T9). Two slots that resolve to the same
 * instant (a spring-forward gap can push 02:30 onto 03:30) run once; ties go to the earlier slot in the list.
 *
 * @param slots - Slots from {@link parseTimes}; at least one.
 * @param now - Milliseconds since the epoch.
 * @returns The instant of the next run and the slot it belongs to.
 * @throws {@link InvalidOptionError} (`ERR_INVALID_ARGUMENT`) if `slots` is empty or `now` is not finite.
 */
export function nextTimeOfDay(slots: readonly TimeOfDay[], now: number): { at: number; slot: TimeOfDay } {
	if (!Number.isFinite(now)) {
		const message = `\`now\` must be a finite number of ms since the epoch, got ${describeValue(now)}`;
		throw new InvalidOptionError('now', message, { code: ErrorCode.InvalidArgument });
	}
	let best: { at: number; slot: TimeOfDay } | undefined;
	// Several slots usually share a zone; read today's date there once.
	const todayByZone = new Map<string, WallClock>();
	for (const slot of slots) {
		let today = todayByZone.get(slot.timeZone);
		if (today === undefined) {
			today = wallClockAt(slot.timeZone, now);
			todayByZone.set(slot.timeZone, today);
		}
		const { year, month, day } = today;
		let at = zonedDateTimeToInstant(year, month, day, slot.hour, slot.minute, slot.second, slot.timeZone);
		// Tomorrow's date is taken in the slot's zone, not as `at + 24 h`: across a DST change the day is 23 or 25 h.
		if (at < now) at = zonedDateTimeToInstant(year, month, day + 1, slot.hour, slot.minute, slot.second, slot.timeZone);
		if (best === undefined || at < best.at) best = { at, slot };
	}
	if (best === undefined) {
		throw new InvalidOptionError('slots', '`slots` must hold at least one time of day, got an empty array', {
			code: ErrorCode.InvalidArgument,
		});
	}
	return best;
}

/**
 * Validates and normalises the `time` option of a time-of-day loop.
 *
 * Accepts one {@link TimeInput} or a non-empty array of them. The result is de-duplicated (same wall time
 * in the same zone; for UTC and fixed offsets, the same UTC time of day, so `'12:00'` and
 * `{ hour: 21, timeZone: '+09:00' }` are one slot), keeping the first, then sorted by wall-clock time and
 * zone name. Unlike discord.py, IANA zones may be mixed with UTC and offsets (no TypeError, C11), and
 * fixed-offset duplicates are recognised across midnight (`03:00+09:00` equals `18:00` UTC).
 *
 * @param input - The value given for the option.
 * @param option - The option name used in errors.
 * @param defaultTimeZone - The zone of strings and of objects without `timeZone`.
 * @returns The normalised slots, frozen, in a new array.
 * @throws {@link InvalidOptionError} naming the offending element and field (`time[2].minute`) and its value.
 */
export function parseTimes(input: unknown, option = 'time', defaultTimeZone = 'UTC'): TimeOfDay[] {
	const zone = assertTimeZone(defaultTimeZone, 'timeZone');
	const parsed: TimeOfDay[] = [];
	if (Array.isArray(input)) {
		if (input.length === 0) {
			throw new InvalidOptionError(option, `\`${option}\` must hold at least one time of day, got an empty array`);
		}
		// An index loop, not map(): map() skips holes, and a hole must be reported, not ignored.
		for (let index = 0; index < input.length; index++) {
			parsed.push(parseTime(input[index], `${option}[${index}]`, zone));
		}
	} else if (typeof input === 'string' || isPlainObject(input)) {
		parsed.push(parseTime(input, option, zone));
	} else {
		throw new InvalidOptionError(
			option,
			`\`${option}\` must be a time of day ('HH:MM', 'HH:MM:SS' or { hour, minute?, second?, timeZone? }) or a non-empty array of them, got ${describeValue(input)}`,
		);
	}
	return normaliseSlots(parsed);
}

/**
 * Formats a slot for messages and logs.
 *
 * @param slot - The slot.
 * @returns `'HH:MM:SS <zone>'`, e.g. `'09:30:00 Europe/Berlin'`.
 */
export function formatTimeOfDay(slot: TimeOfDay): string {
	return `${pad2(slot.hour)}:${pad2(slot.minute)}:${pad2(slot.second)} ${slot.timeZone}`;
}

function isPlainObject(value: unknown): value is object {
	if (typeof value !== 'object' || value === null) return false;
	const prototype: unknown = Object.getPrototypeOf(value);
	return prototype === Object.prototype || prototype === null;
}

function parseTime(value: unknown, path: string, defaultTimeZone: string): TimeOfDay {
	if (typeof value === 'string') {
		const match = TIME_STRING.exec(value);
		const hour = Number(match?.[1]);
		const minute = Number(match?.[2]);
		const second = Number(match?.[3] ?? '0');
		if (match === null || hour > 23 || minute > 59 || second > 59) {
			throw new InvalidOptionError(
				path,
				`\`${path}\` must be 'HH:MM' or 'HH:MM:SS' (24-hour), got ${describeValue(value)}`,
			);
		}
		return Object.freeze({ hour, minute, second, timeZone: defaultTimeZone });
	}
	if (!isPlainObject(value)) {
		throw new InvalidOptionError(
			path,
			`\`${path}\` must be 'HH:MM', 'HH:MM:SS' or { hour, minute?, second?, timeZone? }, got ${describeValue(value)}`,
		);
	}
	for (const key of Object.keys(value)) {
		if (!TIME_OF_DAY_KEYS.has(key)) {
			throw new InvalidOptionError(
				`${path}.${key}`,
				`\`${path}\` has an unknown key '${key}'; expected only hour, minute, second and timeZone`,
			);
		}
	}
	const fields = value as { hour?: unknown; minute?: unknown; second?: unknown; timeZone?: unknown };
	return Object.freeze({
		hour: assertIntegerField(fields.hour, `${path}.hour`, 23, true),
		minute: assertIntegerField(fields.minute, `${path}.minute`, 59, false),
		second: assertIntegerField(fields.second, `${path}.second`, 59, false),
		// An explicit `timeZone: undefined` reads as "not given", like the numeric fields.
		timeZone: fields.timeZone === undefined ? defaultTimeZone : assertTimeZone(fields.timeZone, `${path}.timeZone`),
	});
}

function assertIntegerField(value: unknown, option: string, max: number, required: boolean): number {
	if (value === undefined && !required) return 0;
	if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
		throw new InvalidOptionError(
			option,
			`\`${option}\` must be an integer from 0 to ${max}, got ${describeValue(value)}`,
		);
	}
	// `+ 0` turns -0 into 0, so -0 and 0 format and dedupe alike.
	return value + 0;
}

function secondOfDay(slot: TimeOfDay): number {
	return slot.hour * 3600 + slot.minute * 60 + slot.second;
}

/** C11 without its quirks: dedupe (fixed offsets by UTC time of day, wrapping midnight), then sort. */
function normaliseSlots(slots: readonly TimeOfDay[]): TimeOfDay[] {
	const seen = new Set<string>();
	const unique: TimeOfDay[] = [];
	for (const slot of slots) {
		// An IANA slot's UTC time of day changes with DST, so only the same wall time in the same zone is
		// a duplicate; a fixed-offset slot is the same daily instant as any other with equal UTC time.
		const key = isFixedOffsetZone(slot.timeZone)
			? `fixed@${modulo(secondOfDay(slot) - timeZoneOffsetMs(slot.timeZone, 0) / 1000, SECONDS_PER_DAY)}`
			: `${slot.timeZone}@${secondOfDay(slot)}`;
		if (seen.has(key)) continue;
		seen.add(key);
		unique.push(slot);
	}
	// Sorting only orders the `time` getter's copy and breaks ties; nextTimeOfDay takes the minimum anyway.
	return unique.sort(
		(a, b) => secondOfDay(a) - secondOfDay(b) || (a.timeZone < b.timeZone ? -1 : a.timeZone > b.timeZone ? 1 : 0),
	);
}
