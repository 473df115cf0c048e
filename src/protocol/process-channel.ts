import type { CancelMessage, HostCall, HostReply } from './host-channel.js';
import type { IterationOutcome, RunIterationRequest } from './tasks.js';

/** Task process → main, once it has loaded: it is ready for iterations. */
export type ProcessHello = { readonly type: 'hello' };

/** Task process → main: the outcome of the iteration started by the {@link ProcessRun} with this id. */
export type ProcessOutcome = {
	readonly type: 'outcome';
	readonly invocationId: string;
	readonly outcome: IterationOutcome;
};

/** Main → task process: run one iteration. */
export type ProcessRun = { readonly type: 'run'; readonly request: RunIterationRequest };

/** Everything a task process sends over its IPC channel. */
export type ProcessToMainMessage = ProcessHello | ProcessOutcome | HostCall;
/** Everything the main side sends to a task process. */
export type MainToProcessMessage = ProcessRun | HostReply | CancelMessage;
