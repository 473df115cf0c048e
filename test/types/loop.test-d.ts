import { describe, expectTypeOf, test } from 'vitest';
import {
	type Loop,
	LoopController,
	type LoopEndReason,
	type LoopEventMap,
	loop,
	type ServiceMap,
	type TaskArgs,
	TaskPool,
} from '../../src/index.js';
import type typedTask from '../fixtures/typed-task.js';

const taskUrl = new URL('../fixtures/typed-task.js', import.meta.url);

describe('loop() with a task module', () => {
	test('takes the arguments of start() from the task module type', () => {
		const board = loop<typeof import('../fixtures/typed-task.js')>({ minutes: 5 }, taskUrl);

		expectTypeOf(board).toEqualTypeOf<Loop<[guildId: string, top: number]>>();
		expectTypeOf(board.start).parameters.toEqualTypeOf<[guildId: string, top: number]>();
		expectTypeOf(board.start).returns.toEqualTypeOf<Promise<void>>();
		void board.start('123', 10);
		// @ts-expect-error top must be a number
		void board.start('123', '10');
		// @ts-expect-error top is required
		void board.start('123');
		// @ts-expect-error guildId must be a string
		void board.start(123, 10);
		// @ts-expect-error restart() takes the same arguments
		void board.restart('123', null);
	});

	test('takes the arguments from a task definition type as well', () => {
		expectTypeOf<TaskArgs<typeof typedTask>>().toEqualTypeOf<[guildId: string, top: number]>();
		expectTypeOf<TaskArgs<typeof import('../fixtures/typed-task.js')>>().toEqualTypeOf<
			[guildId: string, top: number]
		>();
	});

	test('accepts any arguments without a module type', () => {
		const untyped = loop({ seconds: 1 }, taskUrl);

		expectTypeOf(untyped.start).parameters.toEqualTypeOf<unknown[]>();
		void untyped.start('anything', 1, { a: [] });
	});

	test('accepts the worker options alongside the loop options', () => {
		const pool = new TaskPool({ threads: 2 });
		loop({ seconds: 1, pool, timeoutMs: 1000, exportName: 'default' }, taskUrl);
		loop({ seconds: 1, isolation: 'dedicated', resourceLimits: { maxOldGenerationSizeMb: 64 } }, taskUrl);
		// @ts-expect-error isolation is 'shared' or 'dedicated'
		loop({ seconds: 1, isolation: 'isolated' }, taskUrl);
		// @ts-expect-error timeoutMs is a number
		loop({ seconds: 1, timeoutMs: '1s' }, taskUrl);
	});
});

describe('loop() with a main-thread body', () => {
	test('takes the arguments of start() from the body', () => {
		const ticker = loop({ seconds: 1 }, (a: string, b: number) => {
			void a;
			void b;
		});

		expectTypeOf(ticker.start).parameters.toEqualTypeOf<[a: string, b: number]>();
		// @ts-expect-error b must be a number
		void ticker.start('x', 'y');
	});

	test('gives the error hook the loop itself', () => {
		loop(
			{
				seconds: 1,
				onError: (error, self) => {
					expectTypeOf(error).toBeUnknown();
					expectTypeOf(self).toEqualTypeOf<Loop<[channelId: string]>>();
				},
			},
			async (channelId: string) => channelId,
		);
	});
});

describe('LoopEventMap', () => {
	test('types each event as a tuple of its listener arguments', () => {
		expectTypeOf<LoopEventMap['loopStarted']>().toEqualTypeOf<[]>();
		expectTypeOf<LoopEventMap['iterationCompleted']>().toEqualTypeOf<
			[info: { readonly iteration: number; readonly durationMs: number; readonly result: unknown }]
		>();
		expectTypeOf<LoopEventMap['iterationFailed'][0]>().toEqualTypeOf<{
			readonly iteration: number;
			readonly durationMs: number;
			readonly error: unknown;
			readonly willRetry: boolean;
		}>();
		expectTypeOf<LoopEventMap['reconnecting'][0]['delayMs']>().toEqualTypeOf<number>();
		expectTypeOf<LoopEventMap['loopStopped'][0]['reason']>().toEqualTypeOf<LoopEndReason>();
	});

	test('types the listeners of Loop#on from the map', () => {
		const ticker = loop({ seconds: 1 }, () => {});

		ticker.on('iterationFailed', (info) => {
			expectTypeOf(info.willRetry).toEqualTypeOf<boolean>();
		});
		ticker.on('loopStopped', (info) => {
			expectTypeOf(info.reason).toEqualTypeOf<LoopEndReason>();
		});
		// @ts-expect-error not an event
		ticker.on('iterationSkipped', () => {});
		// @ts-expect-error iterationCompleted gives an info object, not a number
		ticker.on('iterationCompleted', (info: number) => info);
	});
});

describe('LoopController with loop arguments by name', () => {
	test('types start(name, ...) and restart(name, ...) from its second type parameter', () => {
		const tasks = new LoopController<ServiceMap, { leaderboard: [channelId: string, top: number] }>();
		expectTypeOf(tasks.start<'leaderboard'>).parameters.toEqualTypeOf<
			[name: 'leaderboard', channelId: string, top: number]
		>();
		void tasks.start('leaderboard', '123', 10);
		// @ts-expect-error top must be a number
		void tasks.start('leaderboard', '123', '10');
		// @ts-expect-error restart() takes the same arguments
		void tasks.restart('leaderboard', 123, 10);
		// A loop the map does not name takes any arguments, as without the map.
		void tasks.start('other', { any: 'thing' });
		expectTypeOf(tasks.restart('leaderboard', '1', 1)).toEqualTypeOf<Promise<void>>();
	});

	test('without the map, start(name, ...) takes any arguments', () => {
		const tasks = new LoopController();
		void tasks.start('anything', 1, 'two', [3]);
	});
});

describe('LoopController#loop with a task module', () => {
	test('without a module type, the loop takes any arguments (not never)', () => {
		const tasks = new LoopController();
		const board = tasks.loop({ name: 'board', minutes: 5 }, taskUrl);
		void board.start('123', 10);
		expectTypeOf(board.start).parameters.toEqualTypeOf<unknown[]>();
	});
});
