import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
	DiscordTasksError,
	deserializeError,
	ErrorCode,
	InvalidOptionError,
	LoopStateError,
	MAX_CAUSE_DEPTH,
	PoolClosedError,
	ProtocolError,
	REGISTERED_CODES,
	RemoteError,
	remoteClassChain,
	type SerializedError,
	ServiceNotFoundError,
	serializeError,
	TaskAbortedError,
	TaskError,
	TaskModuleError,
	TaskResultError,
	TaskTimeoutError,
	WorkerCrashedError,
} from '../../../src/protocol/index.js';

/** What a value becomes on the other side of the thread boundary (through a real structured clone). */
function roundTrip(value: unknown): unknown {
	return deserializeError(structuredClone(serializeError(value)));
}

/** How many `cause` levels a serialized error has, itself included. */
function depthOf(serialized: SerializedError): number {
	let depth = 0;
	for (let current: SerializedError | undefined = serialized; current; current = current.cause) depth += 1;
	return depth;
}

class ServiceError extends Error {}
class QuotaError extends ServiceError {
	override readonly name = 'QuotaError';
	readonly code = 'E_QUOTA';
	readonly remaining = 0;
	readonly resetAt = new Date('2026-01-05T00:00:00Z');
	readonly retry = { afterMs: 500, buckets: new Set(['a']) };
	/** Not cloneable: left out of `data`. */
	readonly onReset = () => {};
	/** A class instance: left out of `data` (its methods would be lost). */
	readonly owner = new ServiceError('owner');
}

describe('serializeError', () => {
	test('records the name, message, stack, code and class chain of an Error subclass', () => {
		const error = new QuotaError('quota exceeded');

		const serialized = serializeError(error);

		expect(serialized).toMatchObject({
			name: 'QuotaError',
			message: 'quota exceeded',
			code: 'E_QUOTA',
			stack: error.stack,
			classChain: ['QuotaError', 'ServiceError', 'Error'],
		});
	});

	test('keeps own cloneable fields in data and leaves out functions, class instances and reserved fields', () => {
		const serialized = serializeError(new QuotaError('quota exceeded'));

		expect(serialized.data).toEqual({
			remaining: 0,
			resetAt: new Date('2026-01-05T00:00:00Z'),
			retry: { afterMs: 500, buckets: new Set(['a']) },
		});
	});

	test('turns a numeric code into a string', () => {
		expect(serializeError(Object.assign(new Error('x'), { code: 42 })).code).toBe('42');
	});

	test.each([
		['a string', 'x', { message: 'x', nonError: { value: 'x', type: 'string' } }],
		['null', null, { message: 'null', nonError: { value: null, type: 'null' } }],
		['undefined', undefined, { message: 'undefined', nonError: { value: undefined, type: 'undefined' } }],
		['a number', 42, { message: '42', nonError: { value: 42, type: 'number' } }],
		['a plain object', { a: 1 }, { message: '[object Object]', nonError: { value: { a: 1 }, type: 'object' } }],
		['a symbol', Symbol('s'), { message: 'Symbol(s)', nonError: { value: 'Symbol(s)', type: 'symbol' } }],
	])('describes %s that is not an Error as NonErrorThrown', (_kind, value, expected) => {
		const serialized = serializeError(value);

		expect(serialized).toEqual({ name: 'NonErrorThrown', classChain: [], ...expected });
	});

	test('sends the source text of a thrown function instead of the function', () => {
		const serialized = serializeError(function thrown() {
			return 1;
		});

		expect(serialized.nonError?.type).toBe('function');
		expect(serialized.nonError?.value).toContain('function thrown()');
		expect(() => structuredClone(serialized)).not.toThrow();
	});

	test('follows the cause chain up to MAX_CAUSE_DEPTH levels below the error', () => {
		let error = new Error('level 0');
		for (let level = 1; level < 20; level++) error = new Error(`level ${level}`, { cause: error });

		const serialized = serializeError(error);

		expect(depthOf(serialized)).toBe(MAX_CAUSE_DEPTH + 1);
		expect(serialized.message).toBe('level 19');
		expect(serialized.cause?.message).toBe('level 18');
	});

	test('stops at the depth cap on a cyclic cause chain', () => {
		const a = new Error('a');
		const b = new Error('b', { cause: a });
		a.cause = b;

		const serialized = serializeError(a);

		expect(depthOf(serialized)).toBe(MAX_CAUSE_DEPTH + 1);
		expect(serialized.cause?.cause?.message).toBe('a');
	});

	test('serialises a non-Error cause as NonErrorThrown', () => {
		const serialized = serializeError(new Error('outer', { cause: 'raw body' }));

		expect(serialized.cause).toEqual({
			name: 'NonErrorThrown',
			message: 'raw body',
			classChain: [],
			nonError: { value: 'raw body', type: 'string' },
		});
	});

	test('never throws: a field whose getter throws is left out, the rest is kept', () => {
		const error = Object.assign(new Error('x'), { kept: 1 });
		Object.defineProperty(error, 'boom', {
			enumerable: true,
			get() {
				throw new Error('getter');
			},
		});

		const serialized = serializeError(error);

		expect(serialized).toMatchObject({ name: 'Error', message: 'x', data: { kept: 1 } });
		expect(serialized.data).not.toHaveProperty('boom');
	});

	test('never throws: a message whose toString throws becomes empty', () => {
		const hostile = {
			name: 'Hostile',
			message: {
				toString() {
					throw new Error('no');
				},
			},
		};

		expect(serializeError(hostile)).toMatchObject({ name: 'Hostile', message: '' });
	});

	test('never throws: a value that cannot be inspected at all becomes an UnserializableError', () => {
		const { proxy, revoke } = Proxy.revocable({}, {});
		revoke();

		expect(serializeError(proxy)).toEqual({
			name: 'UnserializableError',
			message: expect.stringContaining('could not be inspected'),
			classChain: [],
		});
	});

	test('produces structured-cloneable output for a rebuilt error, keeping its recorded class chain', () => {
		const rebuilt = roundTrip(new QuotaError('quota exceeded'));

		const again = serializeError(rebuilt);

		expect(again.classChain).toEqual(['QuotaError', 'ServiceError', 'Error']);
		expect(structuredClone(again)).toEqual(again);
	});
});

describe('deserializeError', () => {
	test.each([['constructor'], ['toString'], ['hasOwnProperty'], ['__proto__']])(
		'an error named %s (from a worker) is a RemoteError, not a member of Object.prototype called as a class',
		(name) => {
			const rebuilt = deserializeError({ name, message: 'm', classChain: [name] });

			expect(rebuilt).toBeInstanceOf(RemoteError);
			expect(rebuilt).toMatchObject({ name, message: 'm' });
		},
	);

	test.each([
		[null],
		['a string'],
		[{ name: 1, message: {}, classChain: 'Error' }],
		[{ name: 'E', message: 'm', classChain: [], data: [1, 2], cause: 'x', nonError: 5 }],
	])('junk in place of a serialised error (%j) rebuilds into an error, never throws', (junk) => {
		const rebuilt = deserializeError(junk as never);

		expect(rebuilt).toBeInstanceOf(Error);
		expect(String(rebuilt)).toEqual(expect.any(String));
	});

	test('a cyclic cause chain from a worker stops at the maximum depth', () => {
		const cyclic: Record<string, unknown> = { name: 'E', message: 'loop', classChain: ['E'] };
		cyclic['cause'] = cyclic;

		let depth = 0;
		for (let error = deserializeError(cyclic as never) as Error | undefined; error; error = error.cause as Error)
			depth++;

		expect(depth).toBe(MAX_CAUSE_DEPTH + 1);
	});

	test('rebuilds a built-in error with its class', () => {
		const original = new TypeError('not a number');

		const rebuilt = roundTrip(original);

		expect(rebuilt).toBeInstanceOf(TypeError);
		expect(rebuilt).not.toBeInstanceOf(RemoteError);
		expect(rebuilt).toMatchObject({ name: 'TypeError', message: 'not a number', stack: original.stack });
	});

	test('keeps the code of a built-in error', () => {
		const rebuilt = roundTrip(Object.assign(new RangeError('out of range'), { code: 'ERR_OUT_OF_RANGE' }));

		expect(rebuilt).toBeInstanceOf(RangeError);
		expect(rebuilt).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
	});

	test('rebuilds a custom class as a RemoteError with its name, code, class chain, fields and stack', () => {
		const original = new QuotaError('quota exceeded');

		const rebuilt = roundTrip(original) as RemoteError & Record<string, unknown>;

		expect(rebuilt).toBeInstanceOf(RemoteError);
		expect(rebuilt).toBeInstanceOf(Error);
		expect(rebuilt.name).toBe('QuotaError');
		expect(rebuilt.message).toBe('quota exceeded');
		expect(rebuilt.code).toBe('E_QUOTA');
		expect(rebuilt.classChain).toEqual(['QuotaError', 'ServiceError', 'Error']);
		expect(rebuilt['remaining']).toBe(0);
		expect(rebuilt['resetAt']).toEqual(new Date('2026-01-05T00:00:00Z'));
		expect(rebuilt['retry']).toEqual({ afterMs: 500, buckets: new Set(['a']) });
		expect(rebuilt).not.toHaveProperty('onReset');
		expect(rebuilt.stack).toBe(original.stack);
		expect(remoteClassChain(rebuilt)).toEqual(['QuotaError', 'ServiceError', 'Error']);
	});

	test('does not give a built-in class to a custom class that borrows its name', () => {
		class Impostor extends Error {
			override readonly name = 'TypeError';
		}

		const rebuilt = roundTrip(new Impostor('x'));

		expect(rebuilt).toBeInstanceOf(RemoteError);
		expect(rebuilt).not.toBeInstanceOf(TypeError);
		expect(rebuilt).toMatchObject({ name: 'TypeError', classChain: ['Impostor', 'Error'] });
	});

	test.each([
		['a string', 'x'],
		['null', null],
		['a number', 42],
		['a bigint', 10n],
		['a plain object', { a: 1, nested: [new Date(0)] }],
	])('gives back %s that was thrown as the value itself', (_kind, value) => {
		expect(roundTrip(value)).toEqual(value);
	});

	test('rebuilds the cause chain, non-Error causes included', () => {
		const original = new QuotaError('quota exceeded', {
			cause: new Error('429 from upstream', { cause: 'raw body' }),
		});

		const rebuilt = roundTrip(original) as Error;

		expect(rebuilt.cause).toBeInstanceOf(Error);
		expect(rebuilt.cause).toMatchObject({ message: '429 from upstream' });
		expect((rebuilt.cause as Error).cause).toBe('raw body');
	});

	test('marks nothing as remote for a local error', () => {
		expect(remoteClassChain(new Error('local'))).toBeUndefined();
		expect(remoteClassChain('x')).toBeUndefined();
	});

	const cause = new Error('root cause');
	test.each<[string, Error, abstract new (...args: never[]) => Error, Record<string, unknown>]>([
		[
			'TaskError',
			new TaskError('failed', { loopName: 'scores', iteration: 3, cause }),
			TaskError,
			{ code: ErrorCode.TaskFailed, loopName: 'scores', iteration: 3 },
		],
		[
			'TaskTimeoutError',
			new TaskTimeoutError('too slow', { loopName: 'scores', iteration: 2, timeoutMs: 200, cause }),
			TaskTimeoutError,
			{ code: ErrorCode.TaskTimeout, loopName: 'scores', iteration: 2, timeoutMs: 200 },
		],
		[
			'TaskAbortedError',
			new TaskAbortedError('cancelled', { cause }),
			TaskAbortedError,
			{ code: ErrorCode.TaskAborted, name: 'AbortError' },
		],
		[
			'TaskModuleError (not found)',
			new TaskModuleError('missing', { moduleUrl: 'file:///x.mjs', code: ErrorCode.TaskModuleNotFound, cause }),
			TaskModuleError,
			{ code: ErrorCode.TaskModuleNotFound, moduleUrl: 'file:///x.mjs' },
		],
		[
			'TaskModuleError (invalid)',
			new TaskModuleError('no task', { moduleUrl: 'file:///y.mjs', code: ErrorCode.TaskModuleInvalid, cause }),
			TaskModuleError,
			{ code: ErrorCode.TaskModuleInvalid, moduleUrl: 'file:///y.mjs' },
		],
		[
			'WorkerCrashedError (exit)',
			new WorkerCrashedError('exited', { reason: 'exited with code 3', exitCode: 3, cause }),
			WorkerCrashedError,
			{ code: ErrorCode.WorkerCrashed, reason: 'exited with code 3', exitCode: 3 },
		],
		[
			'WorkerCrashedError (out of memory)',
			new WorkerCrashedError('oom', { reason: 'ran out of memory', code: ErrorCode.WorkerOutOfMemory, cause }),
			WorkerCrashedError,
			{ code: ErrorCode.WorkerOutOfMemory, reason: 'ran out of memory' },
		],
		['PoolClosedError', new PoolClosedError('closed', { cause }), PoolClosedError, { code: ErrorCode.PoolClosed }],
		[
			'ServiceNotFoundError',
			new ServiceNotFoundError('no such service', { cause }),
			ServiceNotFoundError,
			{ code: ErrorCode.ServiceNotFound },
		],
		[
			'TaskResultError',
			new TaskResultError('a function', { loopName: 'scores', iteration: 2, cause }),
			TaskResultError,
			{ code: ErrorCode.TaskResultInvalid, loopName: 'scores', iteration: 2 },
		],
		[
			'ProtocolError',
			new ProtocolError('mismatch', { code: ErrorCode.ProtocolVersionMismatch, cause }),
			ProtocolError,
			{ code: ErrorCode.ProtocolVersionMismatch },
		],
		[
			'InvalidOptionError',
			new InvalidOptionError('seconds', 'bad seconds', { cause }),
			InvalidOptionError,
			{ code: ErrorCode.InvalidOption, option: 'seconds' },
		],
		[
			'InvalidOptionError (argument)',
			new InvalidOptionError('args[0]', 'bad argument', { code: ErrorCode.InvalidArgument, cause }),
			InvalidOptionError,
			{ code: ErrorCode.InvalidArgument, option: 'args[0]' },
		],
		[
			'LoopStateError',
			new LoopStateError('running', { code: ErrorCode.LoopAlreadyRunning, cause }),
			LoopStateError,
			{ code: ErrorCode.LoopAlreadyRunning },
		],
	])('rebuilds our %s with its class, fields, message and cause', (_name, original, Class, fields) => {
		const rebuilt = roundTrip(original) as Error;

		expect(rebuilt).toBeInstanceOf(Class);
		expect(rebuilt).toBeInstanceOf(DiscordTasksError);
		expect(rebuilt).not.toBeInstanceOf(RemoteError);
		expect(rebuilt).toMatchObject({ ...fields, message: original.message, stack: original.stack });
		expect(rebuilt.cause).toBeInstanceOf(Error);
		expect(rebuilt.cause).toMatchObject({ message: 'root cause' });
	});

	test('does not rebuild a foreign error that reuses one of our codes as ours', () => {
		class Foreign extends Error {
			readonly code = ErrorCode.TaskFailed;
		}

		const rebuilt = roundTrip(new Foreign('not ours'));

		expect(rebuilt).toBeInstanceOf(RemoteError);
		expect(rebuilt).not.toBeInstanceOf(TaskError);
		expect(rebuilt).toMatchObject({ code: ErrorCode.TaskFailed, classChain: ['Foreign', 'Error'] });
	});
});

describe('DiscordTasksError#toJSON', () => {
	test('is the serialized form, so JSON.stringify keeps the code and fields', () => {
		const error = new TaskTimeoutError('too slow', { loopName: 'scores', iteration: 2, timeoutMs: 200 });

		const json = JSON.parse(JSON.stringify(error)) as SerializedError;

		expect(json).toMatchObject({
			name: 'TaskTimeoutError',
			message: 'too slow',
			code: ErrorCode.TaskTimeout,
			classChain: ['TaskTimeoutError', 'DiscordTasksError', 'Error'],
			data: { loopName: 'scores', iteration: 2, timeoutMs: 200 },
		});
	});
});

describe('instanceof through Symbol.for brands', () => {
	test('matches an error made by another copy of the package, which carries the brands', () => {
		const brand = (name: string) => Symbol.for(`discord-tasks.error.${name}`);
		class TaskErrorFromOtherCopy extends Error {
			get [brand('DiscordTasksError')](): true {
				return true;
			}
			get [brand('TaskError')](): true {
				return true;
			}
		}

		const foreign = new TaskErrorFromOtherCopy('from the CJS build');

		expect(foreign).toBeInstanceOf(TaskError);
		expect(foreign).toBeInstanceOf(DiscordTasksError);
		expect(foreign).not.toBeInstanceOf(LoopStateError);
		expect(foreign).not.toBeInstanceOf(TaskTimeoutError);
	});

	test('matches a plain object with the brand getter', () => {
		const branded = {
			get [Symbol.for('discord-tasks.error.WorkerCrashedError')]() {
				return true;
			},
		};

		expect(branded).toBeInstanceOf(WorkerCrashedError);
		expect(branded).not.toBeInstanceOf(DiscordTasksError);
	});

	test('does not make every error of ours an instance of every subclass', () => {
		const state = new LoopStateError('running', { code: ErrorCode.LoopAlreadyRunning });

		expect(state instanceof TaskError).toBe(false);
		expect(state instanceof InvalidOptionError).toBe(false);
		expect(state instanceof LoopStateError).toBe(true);
		expect(state instanceof DiscordTasksError).toBe(true);
		expect(state instanceof Error).toBe(true);
	});

	test('refuses values without the brand, primitives included', () => {
		expect(new Error('plain') instanceof DiscordTasksError).toBe(false);
		expect(new Error('plain') instanceof RemoteError).toBe(false);
		expect(('TaskError' as unknown) instanceof TaskError).toBe(false);
		expect((null as unknown) instanceof TaskError).toBe(false);
		expect({ [Symbol.for('discord-tasks.error.TaskError')]: 'yes' } instanceof TaskError).toBe(false);
	});
});

describe('ErrorCode', () => {
	const codes = Object.values(ErrorCode);

	test('every code has a class in the registry, and the registry has no other code', () => {
		expect([...REGISTERED_CODES].sort()).toEqual([...codes].sort());
	});

	test('every code has exactly one row in docs/errors.md, and the table has no other code', () => {
		const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
		const documented = [...doc.matchAll(/^\|\s*`(ERR_[A-Z_]+)`\s*\|/gm)].map((match) => match[1]);

		expect([...documented].sort()).toEqual([...codes].sort());
	});
});
