import { describe, expect, test } from 'vitest';
import { CRON_CACHE_CAPACITY, parseCron } from '../../../src/main/cron-schedule.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { invalidOption, utc } from '../../helpers/invalid-option.js';

/** The first `count` fire times after `from`, each computed from the previous one. */
function runs(pattern: string, timeZone: string, from: string, count: number): string[] {
	const schedule = parseCron(pattern, timeZone);
	const result: string[] = [];
	let now = utc(from);
	for (let index = 0; index < count; index++) {
		const next = schedule.next(now);
		if (next === null) break;
		result.push(new Date(next).toISOString());
		now = next;
	}
	return result;
}

describe('parseCron', () => {
	test('keeps the pattern and the canonical zone; UTC by default', () => {
		const schedule = parseCron('*/5 * * * *');
		expect(schedule.pattern).toBe('*/5 * * * *');
		expect(schedule.timeZone).toBe('UTC');
		expect(parseCron('0 9 * * *', 'europe/berlin').timeZone).toBe('Europe/Berlin');
		expect(parseCron('0 9 * * *', '+0900').timeZone).toBe('+09:00');
	});

	test.each([
		[5, '5 (number)'],
		[null, 'null'],
		[undefined, 'undefined'],
		['', "'' (string)"],
		['   ', "'   ' (string)"],
	])('refuses the non-pattern %j', (pattern, received) => {
		const error = invalidOption(() => parseCron(pattern));
		expect(error.option).toBe('cron');
		expect(error.code).toBe(ErrorCode.InvalidOption);
		expect(error.message).toContain(`got ${received}`);
	});

	test.each(['61 * * * *', 'not a cron', '* * *', '* * * * * * * *', '*/0 * * * *', '@reboot'])(
		'refuses the invalid pattern %j with croner’s error as cause',
		(pattern) => {
			const error = invalidOption(() => parseCron(pattern));
			expect(error.option).toBe('cron');
			expect(error.message).toContain(`\`cron\` must be a valid cron pattern, got '${pattern}' (string)`);
			expect(error.cause).toBeInstanceOf(Error);
			expect(error.message).toContain((error.cause as Error).message);
		},
	);

	test('refuses an ISO date, which croner would treat as a one-off job', () => {
		const error = invalidOption(() => parseCron('2026-01-01T09:00:00'));
		expect(error.option).toBe('cron');
		expect(error.message).toContain("not a date, got '2026-01-01T09:00:00' (string)");
	});

	test('refuses a pattern that can never fire', () => {
		const error = invalidOption(() => parseCron('0 0 30 2 *'));
		expect(error.message).toContain("must match at least one time after 1970, got '0 0 30 2 *' (string)");
	});

	test.each([
		['Mars/Base', "'Mars/Base' (string)"],
		[9, '9 (number)'],
		['+20:00', "'+20:00' (string)"],
	])('refuses the time zone %j as `timeZone`', (zone, received) => {
		const error = invalidOption(() => parseCron('* * * * *', zone));
		expect(error.option).toBe('timeZone');
		expect(error.message).toContain(`got ${received}`);
	});

	test('uses the given option name in errors', () => {
		expect(invalidOption(() => parseCron('61 * * * *', 'UTC', 'schedule')).option).toBe('schedule');
	});
});

describe('CronSchedule#next', () => {
	test('every minute: the next whole minute, strictly after now', () => {
		const schedule = parseCron('* * * * *');
		expect(schedule.next(utc('2026-05-10T10:00:30Z'))).toBe(utc('2026-05-10T10:01:00Z'));
		// A fire time is not its own successor, unlike the inclusive time-of-day search.
		expect(schedule.next(utc('2026-05-10T10:00:00Z'))).toBe(utc('2026-05-10T10:01:00Z'));
		expect(schedule.next(utc('2026-05-10T10:00:00Z') - 1)).toBe(utc('2026-05-10T10:00:00Z'));
	});

	test('strictly after now with sub-second precision (6-field pattern)', () => {
		const schedule = parseCron('* * * * * *');
		expect(schedule.next(utc('2026-05-10T10:00:00.500Z'))).toBe(utc('2026-05-10T10:00:01Z'));
		expect(schedule.next(utc('2026-05-10T10:00:00.999Z'))).toBe(utc('2026-05-10T10:00:01Z'));
		expect(schedule.next(utc('2026-05-10T10:00:00Z'))).toBe(utc('2026-05-10T10:00:01Z'));
		expect(runs('*/15 * * * * *', 'UTC', '2026-05-10T10:00:00Z', 3)).toEqual([
			'2026-05-10T10:00:15.000Z',
			'2026-05-10T10:00:30.000Z',
			'2026-05-10T10:00:45.000Z',
		]);
	});

	test('nicknames work (@daily)', () => {
		expect(parseCron('@daily').next(utc('2026-05-10T10:00:00Z'))).toBe(utc('2026-05-11T00:00:00Z'));
	});

	test('a daily pattern in Europe/Berlin follows the clock change (08:00 UTC, then 07:00 UTC)', () => {
		expect(runs('0 9 * * *', 'Europe/Berlin', '2026-03-27T00:00:00Z', 4)).toEqual([
			'2026-03-27T08:00:00.000Z',
			'2026-03-28T08:00:00.000Z',
			'2026-03-29T07:00:00.000Z',
			'2026-03-30T07:00:00.000Z',
		]);
	});

	test('croner DST rule: a fixed time in the spring gap fires once, at the end of the gap (03:00 CEST)', () => {
		expect(runs('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', 3)).toEqual([
			'2026-03-28T01:30:00.000Z',
			'2026-03-29T01:00:00.000Z',
			'2026-03-30T00:30:00.000Z',
		]);
	});

	test('croner DST rule: a fixed time in the autumn overlap fires once, at its first occurrence (EDT)', () => {
		expect(runs('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2)).toEqual([
			'2026-11-01T05:30:00.000Z',
			'2026-11-02T06:30:00.000Z',
		]);
	});

	test('a fixed offset zone reads the pattern at that offset', () => {
		expect(parseCron('0 9 * * *', '+09:00').next(utc('2026-05-10T01:00:00Z'))).toBe(utc('2026-05-11T00:00:00Z'));
		expect(parseCron('0 9 * * *', 'Etc/GMT-9').next(utc('2026-05-10T01:00:00Z'))).toBe(utc('2026-05-11T00:00:00Z'));
	});

	test('returns null when the pattern never fires again', () => {
		expect(parseCron('0 0 0 1 1 * 2020').next(utc('2026-05-10T00:00:00Z'))).toBeNull();
	});

	test('refuses a non-finite now', () => {
		const error = invalidOption(() => parseCron('* * * * *').next(Number.NaN));
		expect(error.option).toBe('now');
		expect(error.code).toBe(ErrorCode.InvalidArgument);
	});
});

describe('parseCron instance sharing', () => {
	test('two parses of the same pattern and zone return one shared schedule', () => {
		const first = parseCron('17 4 * * *', 'Asia/Tokyo');
		expect(parseCron('17 4 * * *', 'Asia/Tokyo')).toBe(first);
		expect(parseCron('17 4 * * *', 'asia/tokyo')).toBe(first);
		expect(parseCron('17 4 * * *', 'Europe/Berlin')).not.toBe(first);
		expect(parseCron('17 4 * * 1', 'Asia/Tokyo')).not.toBe(first);
	});

	test('the cache is bounded: the least recently used entry is dropped and keeps working', () => {
		const evicted = parseCron('0 0 1 1 *', 'Australia/Sydney');
		for (let index = 0; index < CRON_CACHE_CAPACITY; index++)
			parseCron(`${index % 60} ${index % 24} 2 * *`, 'Australia/Sydney');
		const fresh = parseCron('0 0 1 1 *', 'Australia/Sydney');
		expect(fresh).not.toBe(evicted);
		expect(evicted.next(utc('2026-05-10T00:00:00Z'))).toBe(fresh.next(utc('2026-05-10T00:00:00Z')));
		expect(evicted.next(utc('2026-05-10T00:00:00Z'))).toBe(utc('2026-12-31T13:00:00Z'));
	});

	test('a cache hit refreshes the entry', () => {
		const kept = parseCron('0 0 1 1 *', 'America/Chicago');
		const fill = (from: number) => {
			for (let index = from; index < from + CRON_CACHE_CAPACITY - 1; index++) {
				parseCron(`${index % 60} ${Math.floor(index / 60)} 3 * *`, 'America/Chicago');
			}
		};
		fill(0);
		expect(parseCron('0 0 1 1 *', 'America/Chicago')).toBe(kept);
		fill(CRON_CACHE_CAPACITY);
		expect(parseCron('0 0 1 1 *', 'America/Chicago')).toBe(kept);
	});
});
