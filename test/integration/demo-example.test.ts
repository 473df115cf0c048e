import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../examples/demo-bot.mjs', import.meta.url));

// `npm start` (the README's first command), cut short by DEMO_DURATION_MS, without a terminal: the demo prints its
// table instead of redrawing it, and must end by itself with exit code 0.
test.each([
	{ durationMs: 3000, when: 'before its /tasks list answer is due (6 s in)' },
	{ durationMs: 8000, when: 'after the /tasks list answer' },
])('the demo bot stops cleanly $when', { timeout: 60_000 }, async ({ durationMs }) => {
	const { stdout } = await run(process.execPath, [script], {
		env: { ...process.env, DEMO_DURATION_MS: String(durationMs) },
		timeout: 50_000,
	});
	expect(stdout).toMatch(/logged into the loopback gateway/);
	expect(stdout).toMatch(/DEMO_DURATION_MS: stopping loops/);
	expect(stdout.trimEnd().endsWith('Stopped cleanly.')).toBe(true);
	if (durationMs > 6000) expect(stdout).toMatch(/\/tasks list, answered by the bot/);
});
