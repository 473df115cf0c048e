import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loop } from 'discord-tasks';

test('a failing body ends the run with its error', async (t) => {
	t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'setImmediate', 'Date'], now: 0 });
	const sync = loop({ minutes: 5 }, async () => {
		throw new Error('no database');
	});
	sync.onError(() => {}); // replaces the default hook, which logs to stderr

	await assert.rejects(sync.start(), { message: 'no database' });
});

test('an interval loop runs at once, then every 5 minutes', async (t) => {
	// setImmediate stays real: the test waits with it for the loop's promises between two ticks.
	t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: 0 });
	const settle = () => new Promise((resolve) => setImmediate(resolve));
	const runs: number[] = [];
	const poll = loop({ minutes: 5, count: 3 }, () => {
		runs.push(Date.now());
	});

	const run = poll.start();
	await settle();
	for (let minute = 0; minute < 15; minute += 5) {
		t.mock.timers.tick(5 * 60_000);
		await settle();
	}
	await run;

	assert.deepEqual(runs, [0, 300_000, 600_000]);
});
