import type { Logger as PinoLogger } from 'pino';
import { describe, expectTypeOf, test } from 'vitest';
import type { Logger as WinstonLogger } from 'winston';
import type { ControllerLogger, LoopControllerOptions, LoopStatus } from '../../src/index.js';

describe('LoopControllerOptions.logger', () => {
	test('takes pino, winston and console as they are', () => {
		expectTypeOf<PinoLogger>().toExtend<ControllerLogger>();
		expectTypeOf<WinstonLogger>().toExtend<ControllerLogger>();
		expectTypeOf<Console>().toExtend<ControllerLogger>();
		expectTypeOf<{ warn(message: string): void; error(message: string): void }>().toExtend<ControllerLogger>();
	});

	test('refuses an object without warn and error', () => {
		expectTypeOf<{ info(message: string): void }>().not.toExtend<ControllerLogger>();
		expectTypeOf<LoopControllerOptions['logger']>().toEqualTypeOf<ControllerLogger | undefined>();
	});
});

describe('LoopStatus', () => {
	test('names its counters for what they count', () => {
		expectTypeOf<LoopStatus>().toHaveProperty('attempts').toEqualTypeOf<number>();
		expectTypeOf<LoopStatus>().toHaveProperty('successes').toEqualTypeOf<number>();
		expectTypeOf<LoopStatus>().toHaveProperty('latenessP99Ms').toEqualTypeOf<number | null>();
		expectTypeOf<LoopStatus>().toHaveProperty('lastErrorAt').toEqualTypeOf<string | null>();
		expectTypeOf<LoopStatus>().not.toHaveProperty('runs');
	});
});
