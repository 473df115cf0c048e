import { describe, expectTypeOf, test } from 'vitest';
import type { Cloneable, HostCall, HostReply, HostResult, TaskHandlers } from '../../src/protocol/index.js';
import type * as entry from '../../src/worker/entry.js';
import type { TaskHost } from '../../src/worker/task-host.js';
import { defineTask, type RemoteServices, type TaskContext, type TaskDefinition } from '../../src/worker-api.js';

describe('defineTask', () => {
	test('types ctx.host from the services in the context annotation', () => {
		defineTask(async (ctx: TaskContext<{ add(a: number, b: number): Promise<number> }>, x: string) => {
			expectTypeOf(ctx.host.add).toEqualTypeOf<(a: number, b: number) => Promise<number>>();
			// @ts-expect-error not a service
			void ctx.host.subtract(1, 2);
			// @ts-expect-error b must be a number
			void ctx.host.add(1, '2');
			return x;
		});
	});

	test('makes every service call a promise, also for services that return plainly', () => {
		expectTypeOf<RemoteServices<{ count(): number; save(rows: string[]): Promise<void> }>>().toEqualTypeOf<{
			readonly count: () => Promise<number>;
			readonly save: (rows: string[]) => Promise<void>;
		}>();
	});

	test('returns a definition carrying the argument, result and service types', () => {
		type Services = { add(a: number, b: number): Promise<number> };
		const task = defineTask(async (ctx: TaskContext<Services>, x: string, n: number) => ({
			sum: await ctx.host.add(n, 1),
			x,
		}));

		expectTypeOf(task).toEqualTypeOf<TaskDefinition<[x: string, n: number], { sum: number; x: string }, Services>>();
	});

	test('gives the context its signal, iteration, loop name and Discord access', () => {
		defineTask((ctx) => {
			expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
			expectTypeOf(ctx.iteration).toEqualTypeOf<number>();
			expectTypeOf(ctx.loopName).toEqualTypeOf<string>();
			expectTypeOf(ctx.discord.send).returns.toEqualTypeOf<Promise<Cloneable>>();
			expectTypeOf(ctx.discord.rest.get).returns.toEqualTypeOf<Promise<Cloneable>>();
		});
	});
});

describe('the worker host contract', () => {
	test('the handlers the worker entry exports satisfy TaskHandlers', () => {
		// A promise of the handler: piscina awaits it before the worker reports ready (the warm-up).
		expectTypeOf<{ runIteration: Awaited<typeof entry.runIteration> }>().toExtend<TaskHandlers>();
		expectTypeOf<TaskHost['handlers']>().toExtend<TaskHandlers>();
	});

	test('a host call is a closed union: one of the three host methods, with its own fields', () => {
		expectTypeOf<HostCall['method']>().toEqualTypeOf<'callService' | 'sendMessage' | 'rest'>();
		expectTypeOf<Extract<HostCall, { method: 'rest' }>>().toHaveProperty('route').toEqualTypeOf<string>();
		expectTypeOf<HostReply['result']>().toEqualTypeOf<HostResult>();
		expectTypeOf<HostCall>().toExtend<Cloneable>();
	});
});
