import type { Loop, LoopEventMap } from './loop.js';

/** Names of the events a {@link LoopController} emits. */
export const LoopEvent = {
	LoopStarted: 'loopStarted',
	IterationStarted: 'iterationStarted',
	IterationCompleted: 'iterationCompleted',
	IterationFailed: 'iterationFailed',
	Reconnecting: 'reconnecting',
	WorkerCrashed: 'workerCrashed',
	LoopStopped: 'loopStopped',
} as const;
/** One of the {@link LoopEvent} values. */
export type LoopEvent = (typeof LoopEvent)[keyof typeof LoopEvent];

type AnyLoop = Loop<readonly unknown[]>;

/** The controller's events: each loop event, prefixed with the loop it came from (discord.js style tuples). */
export interface LoopControllerEventMap {
	loopStarted: [loop: AnyLoop];
	iterationStarted: [loop: AnyLoop, ...LoopEventMap['iterationStarted']];
	iterationCompleted: [loop: AnyLoop, ...LoopEventMap['iterationCompleted']];
	iterationFailed: [loop: AnyLoop, ...LoopEventMap['iterationFailed']];
	reconnecting: [loop: AnyLoop, ...LoopEventMap['reconnecting']];
	/** A worker running one of the loop's iterations died (also reported as `iterationFailed`). */
	workerCrashed: [loop: AnyLoop, error: Error];
	loopStopped: [loop: AnyLoop, ...LoopEventMap['loopStopped']];
}
