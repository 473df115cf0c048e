import { afterEach, beforeEach, vi } from 'vitest';
import type { LoopController } from '../../src/index.js';
import { T0 } from './fake-time.js';

/**
 * Fake timers from {@link T0} around every test of the calling file; the loops of every controller passed to the
 * returned function are cancelled after each test. Call it once at the top level of a controller test file.
 */
export function useControllerTestTime(): <C extends LoopController>(tasks: C) => C {
	const controllers: LoopController[] = [];
	beforeEach(() => {
		vi.useFakeTimers({ now: T0 });
	});
	afterEach(() => {
		for (const tasks of controllers.splice(0)) for (const each of tasks.list()) each.cancel();
		vi.useRealTimers();
	});
	return (tasks) => {
		controllers.push(tasks);
		return tasks;
	};
}
