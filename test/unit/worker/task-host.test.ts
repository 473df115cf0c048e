import { MessageChannel } from 'node:worker_threads';
import { expose, releaseProxy, wrap } from 'comlink';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createHostApi, type DiscordBridge, type InvocationScope } from '../../../src/main/host-api-impl.js';
import type { ServiceMap } from '../../../src/protocol/index.js';
import {
	type Cloneable,
	ErrorCode,
	type HostApi,
	type IterationOutcome,
	PROTOCOL_VERSION,
	portEndpoint,
	type RunIterationRequest,
	type TaskControl,
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
 * A TaskHost wired as the worker entry wires it, within this thread: its HostApi is the real main-side one, exposed
 * on one end of a MessageChannel, and its control API is exposed on another and called through comlink.
 */
function createHost(options: { services?: ServiceMap; discord?: DiscordBridge; endedScopes?: boolean } = {}) {
	const scopes = new Map<number, InvocationScope>();
	// The pool registers a scope per running iteration; here every unknown id is a running iteration of 'test',
	// unless the test is about calls from an iteration that has ended.
	const running: InvocationScope = { loopName: 'test', iteration: 0, allowlist: undefined };
	const hostChannel = new MessageChannel();
	const controlChannel = new MessageChannel();
	expose(
		createHostApi({
			services: options.services ?? {},
			scope: (id) => scopes.get(id) ?? (options.endedScopes ? undefined : running),
			discord: () => options.discord,
		}),
		portEndpoint(hostChannel.port2),
	);
	const hostApi = wrap<HostApi>(portEndpoint(hostChannel.port1));
	const taskHost = new TaskHost(hostApi);
	expose(taskHost.control, portEndpoint(controlChannel.port1));
	const control = wrap<TaskControl>(portEndpoint(controlChannel.port2));
	defer(() => {
		hostApi[releaseProxy]();
		control[releaseProxy]();
		for (const port of [hostChannel.port1, hostChannel.port2, controlChannel.port1, controlChannel.port2]) port.close();
	});
	return { taskHost, control, scopes };
}

let invocationIds = 0;

/** A request to run `file`'s task (default export unless `exportName` is given). */
function request(
	file: string,
	args: readonly Cloneable[] = [],
	overrides: Partial<RunIterationRequest> & { exportName?: string } = {},
): RunIterationRequest {
	const { exportName = 'default', ...rest } = overrides;
	invocationIds += 1;
	return {
		protocolVersion: PROTOCOL_VERSION,
		invocationId: invocationIds,
		loopName: 'scores',
		iteration: 4,
		task: { moduleUrl: fixture(file), exportName },
		args,
		timeoutMs: 0,
		...rest,
	};
}

/** The error of a failed outcome (fails the test if it succeeded). */
function errorOf(outcome: IterationOutcome) {
	if (outcome.ok) throw new Error(`expected a failed outcome, got ${JSON.stringify(outcome.value)}`);
	return outcome.error;
}

describe('TaskHost#handlers.runIteration', () => {
	test('resolves with the body result, having passed the iteration, the loop name and the arguments', async () => {
		const { taskHost } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('echo.ts', ['guild', 2, { nested: [1] }]));

		expect(outcome).toEqual({
			ok: true,
			durationMs: expect.any(Number),
			value: { args: ['guild', 2, { nested: [1] }], iteration: 4, loopName: 'scores' },
		});
		expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
	});

	test('runs the export named by exportName', async () => {
		const { taskHost } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('exports.ts', [21], { exportName: 'double' }));

		expect(outcome).toMatchObject({ ok: true, value: 42 });
	});

	test('resolves (never rejects) with the serialized error when the body throws', async () => {
		const { taskHost } = createHost();

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
		expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
	});

	test('reports a thrown null as a non-Error throwable', async () => {
		const { taskHost } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('throws.ts', ['null']));

		expect(errorOf(outcome)).toMatchObject({ name: 'NonErrorThrown', nonError: { value: null, type: 'null' } });
	});

	test('reports a module that does not exist as ERR_TASK_MODULE_NOT_FOUND', async () => {
		const { taskHost } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('does-not-exist.ts'));

		expect(errorOf(outcome)).toMatchObject({
			name: 'TaskModuleError',
			code: ErrorCode.TaskModuleNotFound,
			data: { moduleUrl: fixture('does-not-exist.ts') },
		});
	});

	test('reports an export that is not a defineTask() task as ERR_TASK_MODULE_INVALID', async () => {
		const { taskHost } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('exports.ts', [], { exportName: 'notATask' }));

		expect(errorOf(outcome)).toMatchObject({ name: 'TaskModuleError', code: ErrorCode.TaskModuleInvalid });
		expect(errorOf(outcome).message).toContain("export 'notATask'");
		expect(errorOf(outcome).message).toContain('found function');
	});

	test('reports a module without a default export as ERR_TASK_MODULE_INVALID', async () => {
		const { taskHost } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('exports.ts'));

		expect(errorOf(outcome)).toMatchObject({ code: ErrorCode.TaskModuleInvalid });
		expect(errorOf(outcome).message).toContain('default export');
		expect(errorOf(outcome).message).toContain('found nothing');
	});

	test('refuses a result that cannot cross to the main thread, naming what it is', async () => {
		const { taskHost } = createHost();

		const outcome = await taskHost.handlers.runIteration(request('exports.ts', [], { exportName: 'badResult' }));

		expect(errorOf(outcome)).toMatchObject({
			name: 'InvalidOptionError',
			code: ErrorCode.InvalidArgument,
			data: { option: 'result' },
		});
		expect(errorOf(outcome).message).toContain('an instance of Report');
	});

	test('refuses a request of another protocol version with ERR_PROTOCOL_VERSION_MISMATCH', async () => {
		const { taskHost } = createHost();

		const outcome = await taskHost.handlers.runIteration(
			request('echo.ts', [], { protocolVersion: PROTOCOL_VERSION + 1 }),
		);

		expect(errorOf(outcome)).toMatchObject({ name: 'ProtocolError', code: ErrorCode.ProtocolVersionMismatch });
	});

	test('aborts ctx.signal with a TimeoutError when timeoutMs passes', async () => {
		const { taskHost } = createHost();
		// Load the module first: the deadline is armed once the task is loaded.
		await expect(taskHost.handlers.inspectTask(request('waits.ts'))).resolves.toEqual({ ok: true });
		vi.useFakeTimers();
		const settled = vi.fn();

		const outcome = taskHost.handlers.runIteration(request('waits.ts', [], { timeoutMs: 50 }));
		void outcome.then(settled);
		await vi.advanceTimersByTimeAsync(49);
		expect(settled).not.toHaveBeenCalled();
		await vi.advanceTimersByTimeAsync(1);

		await expect(outcome).resolves.toMatchObject({ ok: true, value: { name: 'TimeoutError' } });
	});
});

describe('TaskHost#handlers.inspectTask', () => {
	test('resolves ok for a module with a task', async () => {
		const { taskHost } = createHost();

		await expect(taskHost.handlers.inspectTask(request('echo.ts'))).resolves.toEqual({ ok: true });
	});

	test('resolves with the load error for a module without one', async () => {
		const { taskHost } = createHost();

		const outcome = await taskHost.handlers.inspectTask(request('exports.ts', [], { exportName: 'notATask' }));

		expect(outcome).toMatchObject({ ok: false, error: { code: ErrorCode.TaskModuleInvalid } });
	});

	test('refuses another protocol version', async () => {
		const { taskHost } = createHost();

		const outcome = await taskHost.handlers.inspectTask({ ...request('echo.ts'), protocolVersion: 0 });

		expect(outcome).toMatchObject({ ok: false, error: { code: ErrorCode.ProtocolVersionMismatch } });
	});
});

describe('TaskHost#control (over comlink)', () => {
	test('ping() answers the protocol version', async () => {
		const { control } = createHost();

		await expect(control.ping()).resolves.toBe(PROTOCOL_VERSION);
	});

	test("cancel(id, 'cancel') aborts that iteration's ctx.signal with an AbortError, and no other", async () => {
		const { taskHost, control } = createHost();
		const first = request('waits.ts');
		const second = request('waits.ts');
		const firstOutcome = taskHost.handlers.runIteration(first);
		const secondOutcome = taskHost.handlers.runIteration(second);
		const secondSettled = vi.fn();
		void secondOutcome.then(secondSettled);

		await control.cancel(first.invocationId, 'cancel');

		await expect(firstOutcome).resolves.toMatchObject({ ok: true, value: { name: 'AbortError' } });
		expect(secondSettled).not.toHaveBeenCalled();
		await control.cancel(second.invocationId, 'timeout');
		await expect(secondOutcome).resolves.toMatchObject({ ok: true, value: { name: 'TimeoutError' } });
	});

	test('cancel() of an unknown or finished invocation is ignored', async () => {
		const { taskHost, control } = createHost();
		const finished = request('echo.ts');
		await taskHost.handlers.runIteration(finished);

		await expect(control.cancel(finished.invocationId, 'cancel')).resolves.toBeUndefined();
		await expect(control.cancel(123_456_789, 'timeout')).resolves.toBeUndefined();
	});
});

describe('TaskContext#host and #discord (calls to the main thread)', () => {
	test('a service call reaches the main-side service with its arguments and returns its result', async () => {
		const add = vi.fn(async (a: number, b: number) => a + b);
		const { taskHost } = createHost({ services: { add } });

		const outcome = await taskHost.handlers.runIteration(request('services.ts', ['add']));

		expect(outcome).toMatchObject({ ok: true, value: 3 });
		expect(add).toHaveBeenCalledExactlyOnceWith(1, 2);
	});

	test('a call from an iteration that has ended is refused with DiscordAccessError, so no allowlist can be bypassed', async () => {
		const add = vi.fn(async (a: number, b: number) => a + b);
		const { taskHost } = createHost({ services: { add }, endedScopes: true });

		const outcome = await taskHost.handlers.runIteration(request('services.ts', ['add']));

		expect(outcome).toMatchObject({
			ok: false,
			error: { name: 'DiscordAccessError', code: 'ERR_DISCORD_ACCESS_DENIED' },
		});
		expect(add).not.toHaveBeenCalled();
	});

	test("a service's error reaches the body with its name, code and fields", async () => {
		const { taskHost } = createHost({
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

	test('an unknown service rejects in the body with a DiscordAccessError ERR_SERVICE_NOT_FOUND', async () => {
		const { taskHost } = createHost({ services: {} });

		const outcome = await taskHost.handlers.runIteration(request('services.ts', ['missing']));

		expect(outcome).toMatchObject({
			ok: true,
			value: { name: 'DiscordAccessError', code: ErrorCode.ServiceNotFound, discordAccessError: true },
		});
	});

	test('awaiting ctx.host itself does not treat it as a promise', async () => {
		const { taskHost } = createHost();

		await expect(taskHost.handlers.runIteration(request('services.ts', ['await-host']))).resolves.toMatchObject({
			ok: true,
			value: true,
		});
	});

	test('ctx.discord.send goes through the bridge, checked against the allowlist of its invocation', async () => {
		const send = vi.fn(async (channelId: string) => ({ id: '1', channel_id: channelId }));
		const rest = vi.fn(async () => null);
		const { taskHost, scopes } = createHost({ discord: { send, rest } });
		const allowed = request('services.ts', ['send']);
		const denied = request('services.ts', ['send-denied']);
		for (const each of [allowed, denied]) {
			scopes.set(each.invocationId, { loopName: 'scores', iteration: 4, allowlist: { channels: ['123'] } });
		}

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
		const { taskHost, scopes } = createHost({ discord: { send: vi.fn(), rest } });
		const call = request('services.ts', ['rest']);
		scopes.set(call.invocationId, {
			loopName: 'scores',
			iteration: 4,
			allowlist: { routes: ['GET /channels/:id/messages'] },
		});

		await expect(taskHost.handlers.runIteration(call)).resolves.toMatchObject({ ok: true, value: [{ id: '9' }] });
		expect(rest).toHaveBeenCalledExactlyOnceWith('get', '/channels/123/messages', { query: { limit: '1' } });
	});
});
