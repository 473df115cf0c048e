import { loop } from 'discord-tasks';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';

beforeEach(() => {
	vi.useFakeTimers({ now: new Date('2026-01-05T00:00:00Z') });
});
afterEach(() => {
	vi.useRealTimers();
});

test('a failing body ends the run with its error', async () => {
	const sync = loop({ minutes: 5 }, async () => {
		throw new Error('no database');
	});
	sync.onError(() => {}); // replaces the default hook, which logs to stderr

	await expect(sync.start()).rejects.toThrow('no database');
	expect(sync.failed()).toBe(true);
});

test('an interval loop runs at once, then every 5 minutes', async () => {
	const runs: string[] = [];
	const poll = loop({ minutes: 5, count: 3 }, () => {
		runs.push(new Date().toISOString());
	});

	const run = poll.start();
	await vi.advanceTimersByTimeAsync(15 * 60_000); // count: 3 ends one interval after the third run
	await run;

	expect(runs).toEqual(['2026-01-05T00:00:00.000Z', '2026-01-05T00:05:00.000Z', '2026-01-05T00:10:00.000Z']);
});

test('a network error is retried after the backoff delay', async () => {
	let attempts = 0;
	const post = loop({ minutes: 5, random: () => 0.5, logger: { warn() {}, error() {} } }, () => {
		attempts += 1;
		if (attempts === 1) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
	});

	void post.start();
	await vi.advanceTimersByTimeAsync(0);
	expect(attempts).toBe(1);
	await vi.advanceTimersByTimeAsync(1_000); // the first backoff delay: random() × 2 s
	expect(attempts).toBe(2);
	post.cancel();
});
