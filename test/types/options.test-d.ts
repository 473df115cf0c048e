import { describe, expectTypeOf, test } from 'vitest';
import { type Loop, loop, type ScheduleOptions } from '../../src/index.js';
import type { OptionKeys } from '../../src/protocol/index.js';

const noop = () => {};

describe('schedule options', () => {
	test('one kind of schedule per loop: mixing two does not compile', () => {
		loop({ seconds: 5 }, noop);
		loop({ minutes: 1, hours: 2, timeZone: 'UTC' }, noop);
		loop({ time: '09:00' }, noop);
		loop({ time: [{ hour: 9, timeZone: 'Europe/Berlin' }] }, noop);
		loop({ cron: '0 * * * *', timeZone: 'Asia/Tokyo' }, noop);
		// C6: zero components next to `time` are accepted, as discord.py accepts them.
		loop({ seconds: 0, time: '09:00' }, noop);
		// @ts-expect-error an interval and times of day
		loop({ seconds: 5, time: '09:00' }, noop);
		// @ts-expect-error an interval and a cron pattern
		loop({ minutes: 1, cron: '* * * * *' }, noop);
		// @ts-expect-error times of day and a cron pattern
		loop({ time: '09:00', cron: '* * * * *' }, noop);
	});

	test('changeInterval() takes the same union', () => {
		const created: Loop<[]> = loop({ seconds: 5 }, noop);
		created.changeInterval({ time: '10:00' });
		// @ts-expect-error an interval and times of day
		created.changeInterval({ hours: 1, time: '10:00' });
		expectTypeOf(created.changeInterval).parameter(0).toEqualTypeOf<ScheduleOptions>();
	});
});

describe('OptionKeys', () => {
	interface Example {
		readonly a?: number;
		readonly b: string;
	}

	test('holds a runtime key list to its interface in both directions', () => {
		({ a: true, b: true }) satisfies OptionKeys<Example>;
		// @ts-expect-error a key is missing
		({ a: true }) satisfies OptionKeys<Example>;
		// @ts-expect-error a key the interface does not have
		({ a: true, b: true, c: true }) satisfies OptionKeys<Example>;
	});
});
