import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test, vi } from 'vitest';
import { useWorkerLoops } from '../helpers/worker-loops.js';

// docs/security.md: a task process is started without the bot's execArgv, "so a `--require dotenv/config` there
// does not load the token into it". NODE_OPTIONS is the other way to pass that flag (`NODE_OPTIONS='--require
// dotenv/config' node bot.js`, common under process managers and in containers), and Node reads it again in every
// child it starts: the task process must not run the bot's preloads either, or it loads the token from .env.

const { defer, workerLoop } = useWorkerLoops();

const preload = fileURLToPath(new URL('../fixtures/hostile/dotenv-preload.cjs', import.meta.url));

function setEnv(name: string, value: string): void {
	const previous = process.env[name];
	process.env[name] = value;
	defer(() => {
		if (previous === undefined) delete process.env[name];
		else process.env[name] = previous;
	});
}

describe("isolation: 'process' and a bot started with NODE_OPTIONS='--require dotenv/config'", () => {
	test('the task process does not get the token back from .env', async () => {
		const token = 'node-options-boundary-token-3f8a';
		const directory = mkdtempSync(join(tmpdir(), 'discord-tasks-env-'));
		defer(() => rmSync(directory, { recursive: true, force: true }));
		const dotenv = join(directory, '.env');
		writeFileSync(dotenv, `DISCORD_TOKEN=${token}\n`);
		// The bot's own process as dotenv left it: the token in its environment, the preload in NODE_OPTIONS.
		setEnv('DISCORD_TOKEN', token);
		setEnv('DOTENV_CONFIG_PATH', dotenv);
		setEnv('NODE_OPTIONS', `--require ${JSON.stringify(preload)}`);

		const completed = vi.fn();
		const probe = workerLoop({ count: 1, isolation: 'process' }, 'process-probe.mjs');
		probe.on('iterationCompleted', completed);
		await probe.start({ marker: 'm' });

		const result = completed.mock.calls[0]?.[0]?.result as { envHasToken: boolean; pid: number } | undefined;
		expect(result?.pid).not.toBe(process.pid);
		expect(result?.envHasToken).toBe(false);
	});
});
