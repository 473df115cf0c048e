import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

// The node:test example of docs/testing.md, run by node's own test runner (tsx maps `discord-tasks` to the sources
// through tsconfig's paths): node:test mocks timers differently from vitest, so it is tested on its own.
test('the node:test mock-timers example passes', { timeout: 30_000 }, async () => {
	const { stdout } = await run(
		process.execPath,
		['--import', 'tsx', '--test', '--test-reporter=tap', 'test/node-test/loop-mock-timers.test.ts'],
		{ cwd: root, timeout: 25_000 },
	);
	expect(stdout).toMatch(/^# pass 2$/m);
	expect(stdout).toMatch(/^# fail 0$/m);
});
