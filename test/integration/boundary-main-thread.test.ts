import { setTimeout as delay } from 'node:timers/promises';
import { WorkerCrashedError } from 'discord-tasks';
import { afterEach, describe, expect, test } from 'vitest';
import {
	CHANNEL_A,
	CHANNEL_B,
	contentsIn,
	firstOutcome,
	hostile,
	quiet,
	useBoundaryBot,
} from '../helpers/boundary-bot.js';

// Issue #8: a task must not be able to run code on the main thread through its channel to it. The hostile task
// finds the port its context talks through and sends comlink-style GET/SET/CONSTRUCT/APPLY messages on any
// property path; whatever the channel's format, the main thread must be left exactly as it was.

const { cleanups, bot } = useBoundaryBot();

const TOKEN = 'boundary-secret-token-7c2e';
const MARKS = {
	global: '__discordTasksPwned',
	pollution: '__discordTasksPolluted',
	functionPollution: '__discordTasksPollutedByFunction',
};

afterEach(() => {
	// Undo what a successful attack did, so one failure does not leak into the next test.
	delete (globalThis as Record<string, unknown>)[MARKS.global];
	delete (Object.prototype as Record<string, unknown>)[MARKS.pollution];
	delete (Object.prototype as Record<string, unknown>)[MARKS.functionPollution];
});

function useTokenInEnvironment(): void {
	const previous = process.env['DISCORD_TOKEN'];
	process.env['DISCORD_TOKEN'] = TOKEN;
	cleanups.push(() => {
		if (previous === undefined) delete process.env['DISCORD_TOKEN'];
		else process.env['DISCORD_TOKEN'] = previous;
	});
}

function expectMainThreadUntouched(): void {
	expect((globalThis as Record<string, unknown>)[MARKS.global]).toBeUndefined();
	expect(Object.hasOwn(Object.prototype, MARKS.pollution)).toBe(false);
	expect(Object.hasOwn(Object.prototype, MARKS.functionPollution)).toBe(false);
	expect(({} as Record<string, unknown>)[MARKS.pollution]).toBeUndefined();
}

describe.each([{ isolation: 'shared' as const }, { isolation: 'dedicated' as const }])(
	'a task with isolation: $isolation',
	({ isolation }) => {
		test('cannot construct or call a function on the main thread, pollute its globals or read the token', async () => {
			useTokenInEnvironment();
			const { gateway, tasks } = await bot({}, TOKEN);
			tasks.loop(
				{ name: 'attacker', count: 1, isolation, discord: { channels: [CHANNEL_A] }, logger: quiet, onError() {} },
				hostile('main-thread-code.mjs'),
			);
			const restUrl = gateway.address?.restUrl;
			const { result, error } = await firstOutcome(tasks, 'attacker', { restUrl, channelB: CHANNEL_B, marks: MARKS });
			const results = [result];
			const errors = error === undefined ? [] : [error];
			// The messages are not host calls: the worker that sent them is replaced, and its iteration fails as a crash.
			expect(error).toBeInstanceOf(WorkerCrashedError);
			expect(String((error as Error).message)).toMatch(/broke the host protocol/);
			// A function run on the main thread posts with fetch(): give a stray request time to land.
			await delay(200);

			expectMainThreadUntouched();
			// The token never reached the task, and nothing was posted where the loop's allowlist forbids.
			expect(JSON.stringify([results, errors.map(String)])).not.toContain(TOKEN);
			expect(contentsIn(gateway, CHANNEL_B)).toEqual([]);
			expect(gateway.requests.filter((request) => request.path.startsWith(`/channels/${CHANNEL_B}`))).toEqual([]);
			// No property path reached the main thread's Function constructor.
			expect(JSON.stringify(results)).not.toContain('"Function"');
		});
	},
);
