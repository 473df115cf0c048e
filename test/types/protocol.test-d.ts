import { describe, expectTypeOf, test } from 'vitest';
import type {
	Cloneable,
	HostCall,
	HostReply,
	HostResult,
	IterationOutcome,
	MessagePayload,
	RestCallOptions,
	RunIterationRequest,
	SerializedError,
	TaskRef,
} from '../../src/protocol/index.js';

describe('Cloneable', () => {
	test('holds every DTO that crosses the thread boundary', () => {
		expectTypeOf<SerializedError>().toExtend<Cloneable>();
		expectTypeOf<TaskRef>().toExtend<Cloneable>();
		expectTypeOf<RunIterationRequest>().toExtend<Cloneable>();
		expectTypeOf<IterationOutcome>().toExtend<Cloneable>();
		expectTypeOf<HostCall>().toExtend<Cloneable>();
		expectTypeOf<HostReply>().toExtend<Cloneable>();
		expectTypeOf<HostResult>().toExtend<Cloneable>();
		expectTypeOf<MessagePayload>().toExtend<Cloneable>();
		expectTypeOf<RestCallOptions>().toExtend<Cloneable>();
	});

	test('excludes functions, symbols and class instances with methods', () => {
		expectTypeOf<() => void>().not.toExtend<Cloneable>();
		expectTypeOf<symbol>().not.toExtend<Cloneable>();
		expectTypeOf<{ readonly handler: () => void }>().not.toExtend<Cloneable>();
		expectTypeOf<AbortController>().not.toExtend<Cloneable>();
	});

	test('includes plain data, dates, maps, sets and typed arrays', () => {
		expectTypeOf<{
			readonly when: Date;
			readonly tags: ReadonlySet<string>;
			readonly bytes: Uint8Array;
		}>().toExtend<Cloneable>();
		expectTypeOf<ReadonlyMap<string, readonly number[]>>().toExtend<Cloneable>();
	});
});
