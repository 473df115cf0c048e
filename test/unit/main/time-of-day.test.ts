import { describe, expect, test } from 'vitest';
import {
	assertTimeZone,
	formatTimeOfDay,
	nextTimeOfDay,
	parseTimes,
	type TimeOfDay,
	timeZoneOffsetMs,
	zonedDateTimeToInstant,
} from '../../../src/main/time-of-day.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { invalidOption, utc } from '../../helpers/invalid-option.js';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * HOUR_MS;

/** Wall clock of `instant` in `zone` as 'YYYY-MM-DD HH:MM:SS', through the module's own offset function. */
function wallClock(zone: string, instant: number): string {
	return new Date(instant + timeZoneOffsetMs(zone, instant)).toISOString().slice(0, 19).replace('T', ' ');
}

const JST_HOURS = [0, 3, 6, 9, 12, 15, 18, 21];

describe('parseTimes', () => {
	test('C7/C12: a single string is one slot in UTC', () => {
		expect(parseTimes('09:30')).toEqual([{ hour: 9, minute: 30, second: 0, timeZone: 'UTC' }]);
		expect(parseTimes('23:59:58')).toEqual([{ hour: 23, minute: 59, second: 58, timeZone: 'UTC' }]);
	});

	test('an object fills minute and second with 0 and canonicalises its zone', () => {
		expect(parseTimes({ hour: 7 })).toEqual([{ hour: 7, minute: 0, second: 0, timeZone: 'UTC' }]);
		expect(parseTimes({ hour: 7, minute: 5, second: 9, timeZone: 'asia/tokyo' })).toEqual([
			{ hour: 7, minute: 5, second: 9, timeZone: 'Asia/Tokyo' },
		]);
		expect(parseTimes({ hour: 7, minute: undefined, timeZone: undefined })).toEqual([
			{ hour: 7, minute: 0, second: 0, timeZone: 'UTC' },
		]);
	});

	test('accepts fixed offsets and writes them as ±HH:MM', () => {
		expect(parseTimes({ hour: 1, timeZone: '+0900' })[0]?.timeZone).toBe('+09:00');
		expect(parseTimes({ hour: 1, timeZone: '+09' })[0]?.timeZone).toBe('+09:00');
		expect(parseTimes({ hour: 1, timeZone: '-05:30' })[0]?.timeZone).toBe('-05:30');
		expect(parseTimes({ hour: 1, timeZone: '-00:00' })[0]?.timeZone).toBe('+00:00');
	});

	test('defaultTimeZone applies to strings and to objects without timeZone', () => {
		expect(parseTimes(['08:00', { hour: 9 }, { hour: 10, timeZone: 'UTC' }], 'time', 'Europe/Berlin')).toEqual([
			{ hour: 8, minute: 0, second: 0, timeZone: 'Europe/Berlin' },
			{ hour: 9, minute: 0, second: 0, timeZone: 'Europe/Berlin' },
			{ hour: 10, minute: 0, second: 0, timeZone: 'UTC' },
		]);
	});

	test('C11: drops a repeated wall time in the same zone, keeping the first', () => {
		const slots = parseTimes(['12:00', { hour: 12, minute: 0, second: 0 }, '12:00:00']);
		expect(slots).toEqual([{ hour: 12, minute: 0, second: 0, timeZone: 'UTC' }]);
	});

	test('C11: fixed-offset slots with the same UTC time of day are one slot (12:00 UTC = 21:00+09:00)', () => {
		expect(parseTimes(['12:00', { hour: 21, timeZone: '+09:00' }])).toEqual([
			{ hour: 12, minute: 0, second: 0, timeZone: 'UTC' },
		]);
		expect(parseTimes([{ hour: 21, timeZone: 'Etc/GMT-9' }, '12:00'])).toEqual([
			{ hour: 21, minute: 0, second: 0, timeZone: 'Etc/GMT-9' },
		]);
	});

	test('C11 deviation: the UTC comparison wraps midnight, so 03:00+09:00 and 18:00 UTC are one slot', () => {
		expect(parseTimes([{ hour: 3, timeZone: '+09:00' }, '18:00'])).toEqual([
			{ hour: 3, minute: 0, second: 0, timeZone: '+09:00' },
		]);
	});

	test('C11: IANA slots are not merged by UTC time (their offset moves with DST)', () => {
		expect(parseTimes(['12:00', { hour: 21, timeZone: 'Asia/Tokyo' }])).toHaveLength(2);
		expect(
			parseTimes([
				{ hour: 9, timeZone: 'Europe/Berlin' },
				{ hour: 9, timeZone: 'Europe/Paris' },
			]),
		).toHaveLength(2);
	});

	test('C11: sorts by wall-clock time, then zone name', () => {
		const slots = parseTimes(['18:00', { hour: 6, timeZone: 'Europe/Berlin' }, '06:00', '00:00:01']);
		expect(slots.map(formatTimeOfDay)).toEqual([
			'00:00:01 UTC',
			'06:00:00 Europe/Berlin',
			'06:00:00 UTC',
			'18:00:00 UTC',
		]);
	});

	test('C11 deviation: IANA zones mix with UTC and offsets without a TypeError', () => {
		expect(() =>
			parseTimes(['12:00', { hour: 9, timeZone: 'America/New_York' }, { hour: 1, timeZone: '+09:00' }]),
		).not.toThrow();
	});

	test('C13: returns a new array of frozen slots on every call', () => {
		const input = ['10:00', '11:00'];
		const first = parseTimes(input);
		const second = parseTimes(input);
		expect(first).not.toBe(second);
		expect(Object.isFrozen(first[0])).toBe(true);
		first.pop();
		expect(parseTimes(input)).toHaveLength(2);
	});

	describe('C8: refuses a value that is neither a time nor an array of times', () => {
		test.each([
			[5, '5 (number)'],
			[true, 'true (boolean)'],
			[null, 'null'],
			[undefined, 'undefined'],
			[new Date(0), 'an instance of Date'],
			[() => '12:00', 'a function'],
			[new Set(['12:00']), 'an instance of Set'],
		])('%s', (value, received) => {
			const error = invalidOption(() => parseTimes(value));
			expect(error.option).toBe('time');
			expect(error.code).toBe(ErrorCode.InvalidOption);
			expect(error.message).toContain(`got ${received}`);
		});
	});

	test('C9: refuses an empty array', () => {
		const error = invalidOption(() => parseTimes([]));
		expect(error.option).toBe('time');
		expect(error.message).toContain('empty array');
	});

	test.each(['9:3', '9:30', '24:00', '12:60', '12:00:60', 'noon', '', ' 12:00', '12:00 ', '12:00Z', '12-00'])(
		'refuses the malformed time string %j, naming it and the option',
		(value) => {
			const single = invalidOption(() => parseTimes(value));
			expect(single.option).toBe('time');
			expect(single.message).toBe(`\`time\` must be 'HH:MM' or 'HH:MM:SS' (24-hour), got '${value}' (string)`);
			const inList = invalidOption(() => parseTimes(['10:00', value]));
			expect(inList.option).toBe('time[1]');
			expect(inList.message).toContain(`'${value}' (string)`);
		},
	);

	test('C10: names the index of an element that is not a time', () => {
		const holes: unknown[] = ['10:00'];
		holes.length = 3;
		expect(invalidOption(() => parseTimes(holes)).option).toBe('time[1]');
		const nested = invalidOption(() => parseTimes(['10:00', '11:00', ['12:00']]));
		expect(nested.option).toBe('time[2]');
		expect(nested.message).toContain('got an array of length 1');
		const number = invalidOption(() => parseTimes([1200]));
		expect(number.option).toBe('time[0]');
		expect(number.message).toContain('got 1200 (number)');
	});

	test.each([
		['hour', { hour: 24 }, 'got 24 (number)'],
		['hour', { hour: -1 }, 'got -1 (number)'],
		['hour', { hour: 9.5 }, 'got 9.5 (number)'],
		['hour', { hour: '9' }, "got '9' (string)"],
		['hour', { hour: Number.NaN }, 'got NaN (number)'],
		['hour', { minute: 30 }, 'got undefined'],
		['minute', { hour: 9, minute: 60 }, 'got 60 (number)'],
		['second', { hour: 9, second: 60 }, 'got 60 (number)'],
		['second', { hour: 9, second: 1.5 }, 'got 1.5 (number)'],
	])('refuses an out-of-range or non-integer %s: %j', (field, value, received) => {
		const error = invalidOption(() => parseTimes(['10:00', '11:00', value]));
		expect(error.option).toBe(`time[2].${field}`);
		expect(error.message).toContain(`\`time[2].${field}\` must be an integer from 0 to`);
		expect(error.message).toContain(received);
		expect(invalidOption(() => parseTimes(value)).option).toBe(`time.${field}`);
	});

	test('refuses unknown keys, naming the key', () => {
		const error = invalidOption(() => parseTimes([{ hour: 9, minutes: 30 }]));
		expect(error.option).toBe('time[0].minutes');
		expect(error.message).toContain("unknown key 'minutes'");
	});

	test.each([
		['Mars/Base', "'Mars/Base' (string)"],
		['', "'' (string)"],
		['+24:00', "'+24:00' (string)"],
		[9, '9 (number)'],
		[null, 'null'],
	])('refuses the time zone %j', (zone, received) => {
		const error = invalidOption(() => parseTimes(['10:00', { hour: 9, timeZone: zone }]));
		expect(error.option).toBe('time[1].timeZone');
		expect(error.message).toContain(`got ${received}`);
	});

	test('refuses an invalid default time zone as `timeZone`', () => {
		const error = invalidOption(() => parseTimes('10:00', 'time', 'Mars/Base'));
		expect(error.option).toBe('timeZone');
		expect(error.message).toContain("'Mars/Base'");
	});

	test('uses the given option name in errors', () => {
		expect(invalidOption(() => parseTimes(['25:00'], 'slots')).option).toBe('slots[0]');
	});
});

describe('assertTimeZone', () => {
	test('returns the canonical spelling', () => {
		expect(assertTimeZone('UTC', 'tz')).toBe('UTC');
		expect(assertTimeZone('europe/berlin', 'tz')).toBe('Europe/Berlin');
		expect(assertTimeZone('Etc/GMT-9', 'tz')).toBe('Etc/GMT-9');
		expect(assertTimeZone('-0330', 'tz')).toBe('-03:30');
	});

	test('refuses an unknown zone with the Intl error as cause', () => {
		const error = invalidOption(() => assertTimeZone('Mars/Base', 'loop.timeZone'));
		expect(error.option).toBe('loop.timeZone');
		expect(error.message).toBe(
			"`loop.timeZone` must be an IANA time zone such as 'Europe/Berlin' or a UTC offset such as '+09:00', got 'Mars/Base' (string)",
		);
		expect(error.cause).toBeInstanceOf(RangeError);
	});
});

describe('timeZoneOffsetMs', () => {
	test('returns local minus UTC, following DST', () => {
		expect(timeZoneOffsetMs('Asia/Tokyo', utc('2026-01-01T00:00:00Z'))).toBe(9 * HOUR_MS);
		expect(timeZoneOffsetMs('America/New_York', utc('2026-01-15T12:00:00Z'))).toBe(-5 * HOUR_MS);
		expect(timeZoneOffsetMs('America/New_York', utc('2026-07-15T12:00:00Z'))).toBe(-4 * HOUR_MS);
		expect(timeZoneOffsetMs('+05:30', 0)).toBe(5.5 * HOUR_MS);
		expect(timeZoneOffsetMs('UTC', 123)).toBe(0);
	});

	test('ignores the milliseconds of the instant', () => {
		expect(timeZoneOffsetMs('Europe/Berlin', utc('2026-01-01T00:00:00.999Z'))).toBe(HOUR_MS);
		expect(timeZoneOffsetMs('Europe/Berlin', utc('1969-12-31T23:59:59.999Z'))).toBe(HOUR_MS);
	});
});

describe('zonedDateTimeToInstant', () => {
	const NY = 'America/New_York';

	test('U5: 02:30 New York on 2022-03-13 is imaginary (it does not round-trip); UTC never is', () => {
		const instant = zonedDateTimeToInstant(2022, 3, 13, 2, 30, 0, NY);
		expect(wallClock(NY, instant)).not.toBe('2022-03-13 02:30:00');
		const now = utc('2026-05-01T10:20:30Z');
		expect(wallClock('UTC', zonedDateTimeToInstant(2026, 5, 1, 10, 20, 30, 'UTC'))).toBe('2026-05-01 10:20:30');
		expect(zonedDateTimeToInstant(2026, 5, 1, 10, 20, 30, 'UTC')).toBe(now);
	});

	test('U6: 01:30 New York on 2022-11-06 is ambiguous (two instants show it)', () => {
		expect(wallClock(NY, utc('2022-11-06T05:30:00Z'))).toBe('2022-11-06 01:30:00');
		expect(wallClock(NY, utc('2022-11-06T06:30:00Z'))).toBe('2022-11-06 01:30:00');
	});

	test('U7/T4: an ambiguous time resolves to the second occurrence (01:30 EST)', () => {
		expect(zonedDateTimeToInstant(2022, 11, 6, 1, 30, 0, NY)).toBe(utc('2022-11-06T06:30:00Z'));
	});

	test('U8/T4: a non-existent time moves forward by the gap (02:30 → 03:30 EDT)', () => {
		const instant = zonedDateTimeToInstant(2022, 3, 13, 2, 30, 0, NY);
		expect(instant).toBe(utc('2022-03-13T07:30:00Z'));
		expect(wallClock(NY, instant)).toBe('2022-03-13 03:30:00');
	});

	test('U9: an ordinary time is unchanged (02:30 New York on 2022-04-08)', () => {
		expect(zonedDateTimeToInstant(2022, 4, 8, 2, 30, 0, NY)).toBe(utc('2022-04-08T06:30:00Z'));
	});

	test('U10: a UTC time is unchanged (12:30 on 2023-01-07)', () => {
		expect(zonedDateTimeToInstant(2023, 1, 7, 12, 30, 0, 'UTC')).toBe(utc('2023-01-07T12:30:00Z'));
	});

	test.each([
		['Europe/Berlin', [2026, 3, 29, 2, 30], '2026-03-29T01:30:00Z', '2026-03-29 03:30:00'],
		['Europe/Berlin', [2026, 3, 29, 2, 0], '2026-03-29T01:00:00Z', '2026-03-29 03:00:00'],
		['Europe/Berlin', [2026, 10, 25, 2, 30], '2026-10-25T01:30:00Z', '2026-10-25 02:30:00'],
		['America/New_York', [2026, 3, 8, 2, 30], '2026-03-08T07:30:00Z', '2026-03-08 03:30:00'],
		['America/New_York', [2026, 11, 1, 1, 30], '2026-11-01T06:30:00Z', '2026-11-01 01:30:00'],
		// Lord Howe shifts by 30 minutes: the gap size, not a fixed hour, is what a missing time moves by.
		['Australia/Lord_Howe', [2026, 10, 4, 2, 15], '2026-10-03T15:45:00Z', '2026-10-04 02:45:00'],
		['Australia/Lord_Howe', [2026, 4, 5, 1, 45], '2026-04-04T15:15:00Z', '2026-04-05 01:45:00'],
	] as const)('T4: %s %j resolves to %s', (zone, [year, month, day, hour, minute], instant, wall) => {
		const resolved = zonedDateTimeToInstant(year, month, day, hour, minute, 0, zone);
		expect(resolved).toBe(utc(instant));
		expect(wallClock(zone, resolved)).toBe(wall);
	});

	test('T4: UTC and fixed offsets are never shifted', () => {
		expect(zonedDateTimeToInstant(2026, 3, 8, 2, 30, 0, '+09:00')).toBe(utc('2026-03-07T17:30:00Z'));
		expect(zonedDateTimeToInstant(2026, 3, 8, 2, 30, 0, 'Etc/GMT-9')).toBe(utc('2026-03-07T17:30:00Z'));
		expect(zonedDateTimeToInstant(2026, 3, 8, 2, 30, 0, '-05:00')).toBe(utc('2026-03-08T07:30:00Z'));
	});

	test('out-of-range fields overflow into the next unit', () => {
		expect(zonedDateTimeToInstant(2026, 1, 32, 0, 0, 0, 'UTC')).toBe(utc('2026-02-01T00:00:00Z'));
		expect(zonedDateTimeToInstant(2026, 12, 31, 24, 0, 0, 'Asia/Tokyo')).toBe(utc('2026-12-31T15:00:00Z'));
	});
});

describe('nextTimeOfDay', () => {
	test('T2/T3: now exactly at a slot schedules that slot today; 1 ms later schedules tomorrow', () => {
		const slots = parseTimes('09:00');
		const slot = utc('2026-05-10T09:00:00Z');
		expect(nextTimeOfDay(slots, slot).at).toBe(slot);
		expect(nextTimeOfDay(slots, slot + 1).at).toBe(slot + DAY_MS);
		expect(nextTimeOfDay(slots, slot - 1).at).toBe(slot);
	});

	test('T2: after the last slot of the day wraps to the first slot tomorrow', () => {
		const slots = parseTimes(['06:00', '18:00']);
		const next = nextTimeOfDay(slots, utc('2026-05-10T20:00:00Z'));
		expect(next.at).toBe(utc('2026-05-11T06:00:00Z'));
		expect(formatTimeOfDay(next.slot)).toBe('06:00:00 UTC');
		expect(nextTimeOfDay(slots, utc('2026-05-10T07:00:00Z')).at).toBe(utc('2026-05-10T18:00:00Z'));
	});

	test('T7/U1: a slot one minute in the past is scheduled tomorrow, not now', () => {
		const now = utc('2026-05-10T12:34:56.789Z');
		const slots = parseTimes({ hour: 12, minute: 33 });
		expect(nextTimeOfDay(slots, now).at).toBe(utc('2026-05-11T12:33:00Z'));
	});

	test('T7/U2: three slots one to three minutes in the past all wait until tomorrow', () => {
		const now = utc('2026-05-10T12:34:56.789Z');
		const slots = parseTimes(['12:33', '12:32', '12:31']);
		const next = nextTimeOfDay(slots, now);
		expect(next.at).toBe(utc('2026-05-11T12:31:00Z'));
		expect(next.at).toBeGreaterThan(now);
	});

	describe.each([
		['Asia/Tokyo', JST_HOURS.map((hour) => ({ hour, timeZone: 'Asia/Tokyo' }))],
		['+09:00', JST_HOURS.map((hour) => ({ hour, timeZone: '+09:00' }))],
		['Etc/GMT-9', JST_HOURS.map((hour) => ({ hour, timeZone: 'Etc/GMT-9' }))],
		['UTC (the same instants)', JST_HOURS.map((hour) => ({ hour: (hour + 15) % 24 }))],
	])('JST slots every 3 h given in %s', (_name, input) => {
		const slots = parseTimes(input);

		test('U3/T3: 23:50:59 JST goes to 00:00 JST next day; 00:00:01 JST goes to 03:00 JST', () => {
			expect(nextTimeOfDay(slots, utc('2022-03-12T23:50:59+09:00')).at).toBe(utc('2022-03-13T00:00:00+09:00'));
			expect(nextTimeOfDay(slots, utc('2022-03-13T00:00:01+09:00')).at).toBe(utc('2022-03-13T03:00:00+09:00'));
		});

		test.each(JST_HOURS)('U3/U4: one minute before %i:00 JST schedules exactly that slot', (hour) => {
			const slotAt = Date.UTC(2022, 2, 13, hour - 9);
			const next = nextTimeOfDay(slots, slotAt - MINUTE_MS);
			expect(next.at).toBe(slotAt);
			// U4: the chosen slot is the JST wall time itself, in its own zone.
			expect(wallClock(next.slot.timeZone, next.at).slice(11)).toBe(`${String(next.slot.hour).padStart(2, '0')}:00:00`);
			expect(wallClock('Asia/Tokyo', next.at)).toBe(`2022-03-13 ${String(hour).padStart(2, '0')}:00:00`);
		});
	});

	test('T9 fixed: the soonest instant wins across zones, not the first slot in list order', () => {
		const now = utc('2026-05-10T10:00:00Z');
		for (const zone of ['+09:00', 'Asia/Tokyo']) {
			const next = nextTimeOfDay(parseTimes([{ hour: 1, timeZone: zone }, '23:00']), now);
			expect(next.at).toBe(utc('2026-05-10T16:00:00Z'));
			expect(next.slot.timeZone).toBe(zone);
		}
	});

	test('T10: nothing is remembered between calls; a clock that jumps back gets the earlier slot again', () => {
		const slots = parseTimes(['08:00', '20:00']);
		const late = nextTimeOfDay(slots, utc('2026-05-10T21:00:00Z'));
		expect(late.at).toBe(utc('2026-05-11T08:00:00Z'));
		const early = nextTimeOfDay(slots, utc('2026-05-10T07:00:00Z'));
		expect(early.at).toBe(utc('2026-05-10T08:00:00Z'));
		expect(nextTimeOfDay(slots, utc('2026-05-10T07:00:00Z'))).toEqual(early);
	});

	describe('T4/T5 at real DST transitions', () => {
		test('Berlin spring 2026-03-29: 02:30 runs at 03:30 CEST, then tomorrow at 02:30 CEST', () => {
			const slots = parseTimes({ hour: 2, minute: 30, timeZone: 'Europe/Berlin' });
			const first = nextTimeOfDay(slots, utc('2026-03-29T00:00:00Z'));
			expect(first.at).toBe(utc('2026-03-29T01:30:00Z'));
			expect(nextTimeOfDay(slots, first.at + 1).at).toBe(utc('2026-03-30T00:30:00Z'));
		});

		test('Berlin autumn 2026-10-25: at 02:15 CEST the 02:30 slot runs at 02:30 CET (1 h 15 min later), once', () => {
			const slots = parseTimes({ hour: 2, minute: 30, timeZone: 'Europe/Berlin' });
			const now = utc('2026-10-25T02:15:00+02:00');
			const first = nextTimeOfDay(slots, now);
			expect(first.at).toBe(utc('2026-10-25T02:30:00+01:00'));
			expect(first.at - now).toBe(HOUR_MS + 15 * MINUTE_MS);
			expect(nextTimeOfDay(slots, first.at + 1).at).toBe(utc('2026-10-26T02:30:00+01:00'));
		});

		test('Berlin autumn: the first occurrence of an ambiguous slot is never chosen, even exactly at it', () => {
			const slots = parseTimes({ hour: 2, minute: 30, timeZone: 'Europe/Berlin' });
			expect(nextTimeOfDay(slots, utc('2026-10-25T02:30:00+02:00')).at).toBe(utc('2026-10-25T02:30:00+01:00'));
		});

		test('New York spring 2026-03-08: 02:30 runs at 03:30 EDT, then tomorrow at 02:30 EDT', () => {
			const slots = parseTimes({ hour: 2, minute: 30, timeZone: 'America/New_York' });
			const first = nextTimeOfDay(slots, utc('2026-03-08T01:00:00-05:00'));
			expect(first.at).toBe(utc('2026-03-08T03:30:00-04:00'));
			expect(nextTimeOfDay(slots, first.at + 1).at).toBe(utc('2026-03-09T02:30:00-04:00'));
		});

		test('T5: New York autumn 2026-11-01 at 01:15 EDT schedules 01:30 EST, 1 h 15 min later, then the next day', () => {
			const slots = parseTimes({ hour: 1, minute: 30, timeZone: 'America/New_York' });
			const now = utc('2026-11-01T01:15:00-04:00');
			const first = nextTimeOfDay(slots, now);
			expect(first.at).toBe(utc('2026-11-01T01:30:00-05:00'));
			expect(first.at - now).toBe(HOUR_MS + 15 * MINUTE_MS);
			expect(nextTimeOfDay(slots, first.at + 1).at).toBe(utc('2026-11-02T01:30:00-05:00'));
		});

		test('two slots that a gap pushes onto one instant run once, as the earlier slot', () => {
			const slots = parseTimes([
				{ hour: 3, minute: 30, timeZone: 'Europe/Berlin' },
				{ hour: 2, minute: 30, timeZone: 'Europe/Berlin' },
			]);
			const first = nextTimeOfDay(slots, utc('2026-03-29T00:00:00Z'));
			expect(first.at).toBe(utc('2026-03-29T01:30:00Z'));
			expect(formatTimeOfDay(first.slot)).toBe('02:30:00 Europe/Berlin');
			expect(nextTimeOfDay(slots, first.at + 1).at).toBe(utc('2026-03-30T00:30:00Z'));
		});

		const SIMULATED = ['00:30', '01:00', '01:30', '02:00', '02:30', '03:15', '12:00'];
		test.each([
			['Europe/Berlin', 2026, 3, 26],
			['Europe/Berlin', 2026, 10, 22],
			['America/New_York', 2026, 3, 5],
			['America/New_York', 2026, 10, 29],
		])(
			'simulate consecutive runs across the transition in %s from %i-%i-%i: each slot runs exactly once per day, never early',
			(zone, year, month, day) => {
				const slots = parseTimes(SIMULATED, 'time', zone);
				const runsPerDay = new Map<string, string[]>();
				// Seven whole local days, midnight to midnight, with the transition in the middle.
				let now = zonedDateTimeToInstant(year, month, day, 0, 0, 0, zone);
				const end = zonedDateTimeToInstant(year, month, day + 7, 0, 0, 0, zone);
				let previous = Number.NEGATIVE_INFINITY;
				while (true) {
					const { at, slot } = nextTimeOfDay(slots, now);
					if (at >= end) break;
					expect(at).toBeGreaterThanOrEqual(now);
					expect(at).toBeGreaterThan(previous);
					const wall = wallClock(zone, at);
					const slotWall = formatTimeOfDay(slot).slice(0, 8);
					// Never early: the zone's clock shows the slot's time, or a later one (a gap moved it forward).
					expect(wall.slice(11) >= slotWall).toBe(true);
					const date = wall.slice(0, 10);
					runsPerDay.set(date, [...(runsPerDay.get(date) ?? []), slotWall]);
					previous = at;
					// The body takes a moment; the next computation is from just after the run.
					now = at + 1;
				}
				const days = [...runsPerDay.keys()];
				expect(days).toHaveLength(7);
				for (const date of days) {
					expect([...(runsPerDay.get(date) ?? [])].sort()).toEqual(SIMULATED.map((time) => `${time}:00`));
				}
			},
		);
	});

	test('refuses an empty slot list and a non-finite now', () => {
		const empty = invalidOption(() => nextTimeOfDay([], 0));
		expect(empty.option).toBe('slots');
		expect(empty.code).toBe(ErrorCode.InvalidArgument);
		const nan = invalidOption(() => nextTimeOfDay(parseTimes('10:00'), Number.NaN));
		expect(nan.option).toBe('now');
		expect(nan.message).toContain('NaN (number)');
	});

	test('leaves the slots untouched', () => {
		const slots: readonly TimeOfDay[] = parseTimes(['10:00', '09:00']);
		const copy = structuredClone(slots);
		nextTimeOfDay(slots, utc('2026-05-10T09:30:00Z'));
		expect(slots).toEqual(copy);
	});
});

describe('formatTimeOfDay', () => {
	test('writes HH:MM:SS and the zone', () => {
		expect(formatTimeOfDay({ hour: 9, minute: 30, second: 0, timeZone: 'Europe/Berlin' })).toBe(
			'09:30:00 Europe/Berlin',
		);
	});
});
