import { randomUUID } from 'node:crypto';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { CompiledAllowlist, type DiscordAllowlist } from '../../../src/main/discord-allowlist.js';
import { type DiscordBridge, HostServer } from '../../../src/main/host-server.js';
import type { ServiceMap } from '../../../src/protocol/index.js';
import {
	type CancelMessage,
	type Cloneable,
	ErrorCode,
	type IterationOutcome,
	PROTOCOL_VERSION,
	type RunIterationRequest,
	taskKey,
} from '../../../src/protocol/index.js';
import { TaskHost } from '../../../src/worker/task-host.js';
import { useCleanups } from '../../helpers/cleanup.js';

const fixture = (name: string) => new URL(`../../fixtures/in-process/${name}`, import.meta.url).href;
const { defer } = useCleanups();

afterEach(() => {
	vi.useRealTimers();
});

/** A service's own error class. */
class LimitError extends Error {
	override readonly name = 'LimitError';
	readonly code = 'E_LIMIT';
	readonly limit = 5;
}

/**
 * A TaskHost wired as the worker entry wires it, within this thread: its host calls go over a MessageChannel to the
 * real main-side HostServer, which answers on the same channel (as a pool does for each worker).
 */
function createHost(options: { services?: ServiceMap; discord?: DiscordBridge } = {}) {
	const server = new HostServer(options.services ?? {});
	const channel = new MessageChannel();
	const taskHost = new TaskHost((call) => channel.port1.postMessage(call));
	channel.port1.on('message', (message: unknown) => taskHost.receive(message));
	channel.port2.on('message', (message: unknown) => {
		server.receive(channel.port2, message, (reply) => channel.port2.postMessage(reply));
	});
	defer(() => {
		channel.port1.close();
		channel.port2.close();
	});
	/** A request to run `file`'s task, opened on the server as a running iteration with `allowlist`. */
	const request = (
		file: string,
		args: readonly Cloneable[] = [],
		overrides: Partial<RunIterationRequest> & {
			exportName?: string;
			allowlist?: DiscordAllowlist;
			ended?: boolean;
		} = {},
	): RunIterationRequest => {
		const { exportName = 'default', allowlist, ended = false, ...rest } = overrides;
		const scope = {
			loopName: 'scores',
			iteration: 4,
			allowlist: new CompiledAllowlist(allowlist),
			discord: options.discord,
		};
		return {
			protocolVersion: PROTOCOL_VERSION,
			invocationId: randomUUID(),
			// An ended iteration's token is one the server no longer (or never) knew.
			token: ended ? Number.MAX_SAFE_INTEGER : server.open(scope),
			loopName: 'scores',
			iteration: 4,
			task: taskKey({ moduleUrl: fixture(file), exportName }),
			args,
			timeoutMs: 0,
			...rest,
		};
	};
	const cancel = (invocationId: string, reason: CancelMessage['reason']) => {
		const message: CancelMessage = { type: 'cancel', invocationId, reason };
		channel.port2.postMessage(message);
	};
	return { taskHost, request, cancel };
}

/** The error of a failed outcome (fails the test if it succeeded). */
function errorOf(outcome: IterationOutcome) {
	if (outcome === null || outcome.ok) throw new Error(`expected a failed outcome, got ${JSON.stringify(outcome)}`);
	return outcome.error;
}

describe('TaskHost#handlers.runIteration', () => {
	test('resolves with the body result, having passed the iteration, the loop name and the arguments', async () => {
		const { taskHost, request } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('echo.ts', ['guild', 2, { nested: [1] }]));

		expect(outcome).toEqual({
			ok: true,
			value: { args: ['guild', 2, { nested: [1] }], iteration: 4, loopName: 'scores' },
		});
	});

	test('runs the export named by exportName', async () => {
		const { taskHost, request } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('exports.ts', [21], { exportName: 'double' }));

		expect(outcome).toMatchObject({ ok: true, value: 42 });
	});

	test('resolves (never rejects) with the serialized error when the body throws', async () => {
		const { taskHost, request } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('throws.ts', ['quota']));

		expect(errorOf(outcome)).toMatchObject({
			name: 'QuotaError',
			message: 'quota exceeded',
			code: 'E_QUOTA',
			classChain: ['QuotaError', 'ServiceError', 'Error'],
			data: { remaining: 0 },
			cause: { name: 'Error', message: 'upstream' },
		});
		expect(errorOf(outcome).stack).toContain('throws.ts');
	});

	test('reports a thrown null as a non-Error throwable', async () => {
		const { taskHost, request } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('throws.ts', ['null']));

		expect(errorOf(outcome)).toMatchObject({ name: 'NonErrorThrown', nonError: { value: null, type: 'null' } });
	});

	test('reports a module that does not exist as ERR_TASK_MODULE_NOT_FOUND', async () => {
		const { taskHost, request } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('does-not-exist.ts'));

		expect(errorOf(outcome)).toMatchObject({
			name: 'TaskModuleError',
			code: ErrorCode.TaskModuleNotFound,
			data: { moduleUrl: fixture('does-not-exist.ts') },
		});
	});

	test('reports an export that is not a defineTask() task as ERR_TASK_MODULE_INVALID', async () => {
		const { taskHost, request } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('exports.ts', [], { exportName: 'notATask' }));

		expect(errorOf(outcome)).toMatchObject({ name: 'TaskModuleError', code: ErrorCode.TaskModuleInvalid });
		expect(errorOf(outcome).message).toContain("export 'notATask'");
		expect(errorOf(outcome).message).toContain('found function');
	});

	test('reports a module without a default export as ERR_TASK_MODULE_INVALID', async () => {
		const { taskHost, request } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('exports.ts'));

		expect(errorOf(outcome)).toMatchObject({ code: ErrorCode.TaskModuleInvalid });
		expect(errorOf(outcome).message).toContain('default export');
		expect(errorOf(outcome).message).toContain('found nothing');
	});

	test('refuses a result that cannot cross to the main thread, naming what it is', async () => {
		const { taskHost, request } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('exports.ts', [], { exportName: 'badResult' }));

		expect(errorOf(outcome)).toMatchObject({
			name: 'TaskResultError',
			code: ErrorCode.TaskResultInvalid,
			data: { loopName: 'scores', iteration: 4 },
		});
		expect(errorOf(outcome).message).toContain('an instance of Report');
	});

	test('answers null for a body that returned nothing', async () => {
		const { taskHost, request } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('exports.ts', [], { exportName: 'nothing' }));

		expect(outcome).toBeNull();
	});

	test('refuses a request of another protocol version with ERR_PROTOCOL_VERSION_MISMATCH', async () => {
		const { taskHost, request } = createHost();

		const outcome = await taskHost.handlers.runIteration(
			request('echo.ts', [], { protocolVersion: PROTOCOL_VERSION + 1 }),
		);

		expect(errorOf(outcome)).toMatchObject({ name: 'ProtocolError', code: ErrorCode.ProtocolVersionMismatch });
	});

	test('checks the protocol version of a request for a task it has loaded already', async () => {
		const { taskHost, request } = createHost();
		await expect(taskHost.handlers.runIteration(request('echo.ts'))).resolves.toMatchObject({ ok: true });

		const outcome = await taskHost.handlers.runIteration(
			request('echo.ts', [], { protocolVersion: PROTOCOL_VERSION + 1 }),
		);

		expect(errorOf(outcome)).toMatchObject({ name: 'ProtocolError', code: ErrorCode.ProtocolVersionMismatch });
	});

	test('answers a request whose task is not a task key with ERR_PROTOCOL_UNEXPECTED_MESSAGE', async () => {
		const { taskHost, request } = createHost();

		const outcome = await taskHost.handlers.runIteration(
			request('echo.ts', [], { task: { moduleUrl: fixture('echo.ts') } as never }),
		);

		expect(errorOf(outcome)).toMatchObject({ name: 'ProtocolError', code: ErrorCode.ProtocolUnexpectedMessage });
	});

	test('aborts ctx.signal with a TimeoutError when timeoutMs passes', async () => {
		const { taskHost, request } = createHost();
		// Load the module first: the deadline is armed once the task is loaded.
		await expect(taskHost.runIteration(request('waits.ts', [], { timeoutMs: 1 }))).resolves.toMatchObject({ ok: true });
		vi.useFakeTimers();
		const settled = vi.fn();

		const outcome = taskHost.handlers.runIteration(request('waits.ts', [], { timeoutMs: 50 }));
		void outcome.then(settled);
		await vi.advanceTimersByTimeAsync(49);
		expect(settled).not.toHaveBeenCalled();
		await vi.advanceTimersByTimeAsync(1);

		await expect(outcome).resolves.toMatchObject({ ok: true, value: { name: 'TimeoutError' } });
	});

	test('a timeoutMs past 2^31 - 1 ms waits that long, instead of the 1 ms a raw setTimeout would', async () => {
		const { taskHost, request } = createHost();
		await expect(taskHost.runIteration(request('waits.ts', [], { timeoutMs: 1 }))).resolves.toMatchObject({ ok: true });
		vi.useFakeTimers();
		const settled = vi.fn();

		const outcome = taskHost.handlers.runIteration(request('waits.ts', [], { timeoutMs: 2 ** 31 + 5 }));
		void outcome.then(settled);
		await vi.advanceTimersByTimeAsync(2 ** 31);
		expect(settled).not.toHaveBeenCalled();
		await vi.advanceTimersByTimeAsync(5);

		await expect(outcome).resolves.toMatchObject({ ok: true, value: { name: 'TimeoutError' } });
	});

	test('answers a request that is not an iteration (junk from a broken main side) with a ProtocolError outcome', async () => {
		const { taskHost } = createHost();

		const outcome = await taskHost.runIteration(null as unknown as RunIterationRequest);

		expect(errorOf(outcome)).toMatchObject({ name: 'ProtocolError', code: ErrorCode.ProtocolUnexpectedMessage });
	});
});

describe('TaskHost cancels (a message on the host channel)', () => {
	test("a 'cancel' aborts that iteration's ctx.signal with an AbortError, and no other", async () => {
		const { taskHost, request, cancel } = createHost();
		const first = request('waits.ts');
		const second = request('waits.ts');
		const firstOutcome = taskHost.handlers.runIteration(first);
		const secondOutcome = taskHost.handlers.runIteration(second);
		const secondSettled = vi.fn();
		void secondOutcome.then(secondSettled);

		cancel(first.invocationId, 'cancel');

		await expect(firstOutcome).resolves.toMatchObject({ ok: true, value: { name: 'AbortError' } });
		expect(secondSettled).not.toHaveBeenCalled();
		cancel(second.invocationId, 'timeout');
		await expect(secondOutcome).resolves.toMatchObject({ ok: true, value: { name: 'TimeoutError' } });
	});

	test('a cancel of an unknown or finished invocation, and junk on the channel, are ignored', async () => {
		const { taskHost, request, cancel } = createHost();
		const finished = request('echo.ts');
		await taskHost.handlers.runIteration(finished);

		cancel(finished.invocationId, 'cancel');
		cancel('not-an-invocation', 'timeout');
		for (const junk of [null, 'x', { type: 'reply' }, { type: 'reply', id: 99, result: { ok: true } }])
			taskHost.receive(junk);

		await expect(taskHost.handlers.runIteration(request('echo.ts', [1]))).resolves.toMatchObject({ ok: true });
	});
});

describe('TaskContext#host and #discord (calls to the main thread)', () => {
	test('a service call reaches the main-side service with its arguments and returns its result', async () => {
		const add = vi.fn(async (a: number, b: number) => a + b);
		const { taskHost, request } = createHost({ services: { add } });

		const outcome = await taskHost.handlers.runIteration(request('services.ts', ['add']));

		expect(outcome).toMatchObject({ ok: true, value: 3 });
		expect(add).toHaveBeenCalledExactlyOnceWith(1, 2);
	});

	test('a call from an iteration that has ended is refused with DiscordAccessError, so no allowlist can be bypassed', async () => {
		const add = vi.fn(async (a: number, b: number) => a + b);
		const { taskHost, request } = createHost({ services: { add } });

		const outcome = await taskHost.handlers.runIteration(request('services.ts', ['add'], { ended: true }));

		expect(outcome).toMatchObject({
			ok: false,
			error: { name: 'DiscordAccessError', code: 'ERR_DISCORD_ACCESS_DENIED' },
		});
		expect(add).not.toHaveBeenCalled();
	});

	test("a service's error reaches the body with its name, code and fields", async () => {
		const { taskHost, request } = createHost({
			services: {
				refuse: async () => {
					throw new LimitError('over the limit');
				},
			},
		});

		const outcome = await taskHost.handlers.runIteration(request('services.ts', ['refuse']));

		expect(outcome).toMatchObject({
			ok: true,
			value: { name: 'LimitError', message: 'over the limit', code: 'E_LIMIT', limit: 5, remoteError: true },
		});
	});

	test('an unknown service rejects in the body with a ServiceNotFoundError ERR_SERVICE_NOT_FOUND', async () => {
		const { taskHost, request } = createHost({ services: {} });

		const outcome = await taskHost.handlers.runIteration(request('services.ts', ['missing']));

		expect(outcome).toMatchObject({
			ok: true,
			value: { name: 'ServiceNotFoundError', code: ErrorCode.ServiceNotFound, discordAccessError: false },
		});
	});

	test('awaiting ctx.host itself does not treat it as a promise', async () => {
		const { taskHost, request } = createHost();

		await expect(taskHost.handlers.runIteration(request('services.ts', ['await-host']))).resolves.toMatchObject({
			ok: true,
			value: true,
		});
	});

	test('ctx.discord.send goes through the bridge, checked against the allowlist of its invocation', async () => {
		const send = vi.fn(async (channelId: string) => ({ id: '1', channel_id: channelId }));
		const rest = vi.fn(async () => null);
		const { taskHost, request } = createHost({ discord: { send, rest } });
		const allowed = request('services.ts', ['send'], { allowlist: { channels: ['123'] } });
		const denied = request('services.ts', ['send-denied'], { allowlist: { channels: ['123'] } });

		await expect(taskHost.handlers.runIteration(allowed)).resolves.toMatchObject({
			ok: true,
			value: { id: '1', channel_id: '123' },
		});
		await expect(taskHost.handlers.runIteration(denied)).resolves.toMatchObject({
			ok: true,
			value: { code: ErrorCode.DiscordAccessDenied, discordAccessError: true },
		});
		expect(send).toHaveBeenCalledExactlyOnceWith('123', { content: 'hi' });
	});

	test('ctx.discord.rest passes the method, route and options to the bridge when the route is allowed', async () => {
		const rest = vi.fn(async () => [{ id: '9' }]);
		const { taskHost, request } = createHost({ discord: { send: vi.fn(), rest } });
		const call = request('services.ts', ['rest'], { allowlist: { routes: ['GET /channels/:id/messages'] } });

		await expect(taskHost.handlers.runIteration(call)).resolves.toMatchObject({ ok: true, value: [{ id: '9' }] });
		expect(rest).toHaveBeenCalledExactlyOnceWith('get', '/channels/123/messages', { query: { limit: '1' } });
	});
});
