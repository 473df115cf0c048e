import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

const run = promisify(execFile);

test('a CommonJS script runs a worker loop whose task file is named by an absolute path', async () => {
	const script = fileURLToPath(new URL('../fixtures/commonjs/bot.cjs', import.meta.url));
	const { stdout } = await run(process.execPath, [script], { timeout: 20_000 });
	expect(stdout.trim().split('\n')).toEqual([JSON.stringify({ word: 'hello', iteration: 0, commonjs: true }), 'done']);
});
