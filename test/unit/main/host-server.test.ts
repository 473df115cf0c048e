import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, test, vi } from 'vitest';
import { CompiledAllowlist } from '../../../src/main/discord-allowlist.js';
import {
	HostServer,
	MAX_QUEUED_CALLS,
	MAX_SERVICE_ARGS,
	MAX_STRAY_CALLS,
	STRAY_WINDOW_MS,
} from '../../../src/main/host-server.js';
import { describeOversized, ErrorCode, type HostReply, MAX_COLLECTION_SIZE } from '../../../src/protocol/index.js';

const scope = { loopName: 'scores', iteration: 0, allowlist: new CompiledAllowlist(undefined), discord: undefined };

/** Waits until `replies` holds `count` replies (each call is answered after a few turns). */
async function settle(replies: HostReply[], count: number): Promise<void> {
	for (let turn = 0; turn < 10_000 && replies.length < count; turn++) await nextTurn();
}

/** Sends one call (`type` and `id` added) on a fresh channel and waits for its reply. */
async function answerOne(server: HostServer, call: Record<string, unknown>): Promise<HostReply | undefined> {
	const replies: HostReply[] = [];
	server.connect({}, (reply) => replies.push(reply), vi.fn())({ type: 'call', id: 1, ...call });
	await settle(replies, 1);
	return replies[0];
}

describe('HostServer', () => {
	test('answers the calls of an open invocation, and refuses them once it is closed', async () => {
		const add = vi.fn((a: number, b: number) => a + b);
		const server = new HostServer({ add });
		const token = server.open(scope);
		const replies: HostReply[] = [];
		const send = server.connect({}, (reply) => replies.push(reply), vi.fn());

		send({ type: 'call', id: 1, token, method: 'callService', name: 'add', args: [1, 2] });
		await settle(replies, 1);
		server.close(token);
		send({ type: 'call', id: 2, token, method: 'callService', name: 'add', args: [1, 2] });
		await settle(replies, 2);

		expect(replies[0]).toEqual({ type: 'reply', id: 1, result: { ok: true, value: 3 } });
		expect(replies[1]).toMatchObject({ id: 2, result: { ok: false, error: { code: ErrorCode.DiscordAccessDenied } } });
		expect(add).toHaveBeenCalledOnce();
	});

	test('a token used on a second channel cuts that channel off', async () => {
		const server = new HostServer({ add: () => 1 });
		const token = server.open(scope);
		const onViolation = vi.fn();
		const owner = server.connect({}, () => {}, vi.fn());
		const thief = server.connect({}, () => {}, onViolation);

		owner({ type: 'call', id: 1, token, method: 'callService', name: 'add', args: [] });
		await nextTurn();
		thief({ type: 'call', id: 1, token, method: 'callService', name: 'add', args: [] });
		await nextTurn();

		expect(onViolation).toHaveBeenCalledExactlyOnceWith(expect.stringContaining('another worker'));
		expect(server.violationOf(token)).toBeUndefined();
	});

	test('a channel that keeps calling with tokens it was not given (guessing) is cut off; a few late calls are answered', async () => {
		const server = new HostServer({ add: () => 1 });
		const victim = server.open(scope);
		const onViolation = vi.fn();
		const replies: HostReply[] = [];
		const guesser = server.connect({}, (reply) => replies.push(reply), onViolation);

		for (let guess = 1; guess <= MAX_STRAY_CALLS; guess++) {
			guesser({ type: 'call', id: guess, token: guess, method: 'callService', name: 'add', args: [] });
		}
		await settle(replies, MAX_STRAY_CALLS);
		expect(replies).toHaveLength(MAX_STRAY_CALLS);
		expect(replies.every((reply) => reply.result.ok === false)).toBe(true);
		expect(onViolation).not.toHaveBeenCalled();

		guesser({ type: 'call', id: 0, token: MAX_STRAY_CALLS + 1, method: 'callService', name: 'add', args: [] });
		await nextTurn();
		expect(onViolation).toHaveBeenCalledExactlyOnceWith(expect.stringContaining('tokens it was not given'));
		// The iteration it was guessing at is untouched.
		expect(server.violationOf(victim)).toBeUndefined();
	});

	test('late calls spread over time (a task that forgets to await) never cut its worker off', async () => {
		vi.useFakeTimers({ toFake: ['Date'] });
		try {
			const server = new HostServer({ add: () => 1 });
			const onViolation = vi.fn();
			const replies: HostReply[] = [];
			const late = server.connect({}, (reply) => replies.push(reply), onViolation);

			for (let window = 0; window < 3; window++) {
				for (let call = 1; call <= MAX_STRAY_CALLS; call++) {
					late({ type: 'call', id: call, token: call, method: 'callService', name: 'add', args: [] });
				}
				await settle(replies, MAX_STRAY_CALLS * (window + 1));
				vi.advanceTimersByTime(STRAY_WINDOW_MS);
			}

			expect(replies).toHaveLength(MAX_STRAY_CALLS * 3);
			expect(onViolation).not.toHaveBeenCalled();
		} finally {
			vi.useRealTimers();
		}
	});

	test('a message that is not a host call cuts the channel off and marks its invocations', async () => {
		const server = new HostServer({ add: () => 1 });
		const token = server.open(scope);
		const onViolation = vi.fn();
		const send = server.connect({}, () => {}, onViolation);

		send({ type: 'call', id: 1, token, method: 'callService', name: 'add', args: [] });
		send({ type: 'GET', path: ['callService', 'constructor'] });
		await nextTurn();

		expect(onViolation).toHaveBeenCalledOnce();
		expect(server.violationOf(token)).toBe('the message is not a host call');
	});

	test(`more than ${MAX_QUEUED_CALLS} calls waiting cut the channel off, and none of them is run`, async () => {
		const add = vi.fn(() => 1);
		const server = new HostServer({ add });
		const token = server.open(scope);
		const onViolation = vi.fn();
		const send = server.connect({}, () => {}, onViolation);

		for (let id = 0; id <= MAX_QUEUED_CALLS; id++)
			send({ type: 'call', id, token, method: 'callService', name: 'add', args: [] });
		await nextTurn();

		expect(onViolation).toHaveBeenCalledExactlyOnceWith(expect.stringContaining('host calls waiting'));
		expect(add).not.toHaveBeenCalled();
	});

	test('reads a burst in turns: the event loop runs between them', async () => {
		const server = new HostServer({ add: () => 1 });
		const token = server.open(scope);
		const replies: HostReply[] = [];
		const send = server.connect({}, (reply) => replies.push(reply), vi.fn());
		for (let id = 0; id < 2000; id++) send({ type: 'call', id, token, method: 'callService', name: 'add', args: [] });

		await nextTurn();
		const afterOneTurn = replies.length;
		await settle(replies, 2000);

		expect(afterOneTurn).toBeLessThan(2000);
		expect(replies).toHaveLength(2000);
	});

	test('refuses a send to a channel id that is not a snowflake, without reaching the client', async () => {
		const send = vi.fn();
		const server = new HostServer({});
		const token = server.open({ ...scope, discord: { send, rest: vi.fn() } });

		const reply = await answerOne(server, { token, method: 'sendMessage', channelId: '../users/@me', payload: 'x' });

		expect(reply).toMatchObject({ result: { ok: false, error: { code: ErrorCode.DiscordAccessDenied } } });
		expect(send).not.toHaveBeenCalled();
	});

	test.each([
		['too many arguments', Array.from({ length: MAX_SERVICE_ARGS + 1 }, () => 0)],
		['a sparse array of length 2^32 - 1', [new Array(2 ** 32 - 1)]],
	])('refuses a service call with %s, without calling the service', async (_, args) => {
		const add = vi.fn();
		const server = new HostServer({ add });
		const token = server.open(scope);

		const reply = await answerOne(server, { token, method: 'callService', name: 'add', args });

		expect(reply).toMatchObject({ result: { ok: false, error: { code: ErrorCode.InvalidArgument } } });
		expect(add).not.toHaveBeenCalled();
	});

	test('a call to a service that does not exist is refused before its arguments are walked', async () => {
		const server = new HostServer({ add: vi.fn() });
		const token = server.open(scope);

		const reply = await answerOne(server, {
			token,
			method: 'callService',
			name: 'anything',
			args: [new Array(2 ** 32 - 1)],
		});

		expect(reply).toMatchObject({ result: { ok: false, error: { code: ErrorCode.ServiceNotFound } } });
	});
});

describe('describeOversized', () => {
	test('names a sparse array too long to walk, without walking it', () => {
		expect(describeOversized({ rows: new Array(2 ** 32 - 1) }, 'args')).toBe(
			`args.rows is an array of length ${2 ** 32 - 1} (at most ${MAX_COLLECTION_SIZE})`,
		);
	});

	test('names where it sits: indexes, keys and Map or Set entries, past the values walked before it', () => {
		const huge = new Array(2 ** 32 - 1);
		expect(describeOversized({ ok: [1, 2], rows: [{ a: 1 }, { b: [0, huge] }] }, 'args')).toBe(
			`args.rows[1].b[1] is an array of length ${2 ** 32 - 1} (at most ${MAX_COLLECTION_SIZE})`,
		);
		expect(describeOversized([new Map([['k', { huge }]])], 'payload')).toBe(
			`payload[0] (an entry).huge is an array of length ${2 ** 32 - 1} (at most ${MAX_COLLECTION_SIZE})`,
		);
	});

	test('passes ordinary values, cycles included', () => {
		const cyclic: Record<string, unknown> = { rows: [1, 2, { a: new Map([['k', new Set([1])]]) }] };
		cyclic['self'] = cyclic;
		expect(describeOversized(cyclic, 'value')).toBeUndefined();
		expect(describeOversized(new Uint8Array(10_000_000), 'value')).toBeUndefined();
	});
});
