import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);

// `npm run start:cluster`, cut short: its own redis-server, the loopback gateway, a ShardingManager with two shard
// processes. What it prints at the end is the proof the example exists for: every tick ran once, and where.
test('the cluster example runs each tick once across its two shard processes and stops cleanly', {
	timeout: 90_000,
}, async () => {
	const script = fileURLToPath(new URL('../../examples/cluster-bot.mjs', import.meta.url));
	const { stdout } = await run(process.execPath, [script], {
		env: { ...process.env, DEMO_DURATION_MS: '6000' },
		timeout: 80_000,
	});
	expect(stdout).toMatch(/^Both shards are ready after [\d.]+ s: shard-0 \(pid \d+\), shard-1 \(pid \d+\)\.$/m);
	// A status table was printed while it ran, naming the shard process that ran each loop's latest tick.
	expect(stdout).toMatch(/^presence +main +\w+ +\d+ .* shard-[01] /m);

	const summary = stdout.slice(stdout.indexOf('Summary:'));
	const totals = /^Ticks: (\d+), duplicates: (\d+), gaps: (\d+); shard-0 ran (\d+), shard-1 ran (\d+)\.$/m.exec(
		summary,
	);
	expect(totals, summary).not.toBeNull();
	const [, ticks, duplicates, gaps, byShard0, byShard1] = (totals as RegExpExecArray).map(Number);
	// 6 s of presence (1 s), guild-report (2 s), flaky (3 s) and leaderboard (5 s) ticks.
	expect(ticks).toBeGreaterThanOrEqual(8);
	expect(duplicates).toBe(0);
	expect(gaps).toBe(0);
	expect((byShard0 as number) + (byShard1 as number)).toBe(ticks);
	// runOn: the guild-report loop runs only on the shard that holds its guild, and finds it in that shard's cache.
	expect(summary).toMatch(
		/^guild-report \(runOn guild \d+, held by shard-1\) ran on: shard-1; .* missed it 0 times\.$/m,
	);
	// Both shard processes ran ticks (guild-report alone keeps shard-1 busy; any-process loops go to either).
	expect(byShard0).toBeGreaterThan(0);
	expect(byShard1).toBeGreaterThan(0);
	for (const loop of ['leaderboard', 'flaky', 'presence', 'guild-report']) {
		expect(summary).toMatch(new RegExp(`^${loop} +[1-9]\\d* +0 +0 `, 'm'));
	}
	expect(summary).toMatch(/^The gateway received [1-9]\d* leaderboard posts, 0 of them twice\.$/m);
	expect(stdout.trimEnd().endsWith('Stopped cleanly.')).toBe(true);
});
