/**
 * The task process host (`isolation: 'process'`): a Node process of its own, forked by the main side with an IPC
 * channel and an environment without the bot's token. It runs one iteration at a time for one loop, with the same
 * {@link TaskHost} as a worker thread: host calls and cancels travel over IPC instead of a MessagePort.
 */
import type { ProcessHello, ProcessOutcome, ProcessRun } from '../protocol/index.js';
import { TaskHost } from './task-host.js';

const send = (message: unknown) => {
	// The main side may be gone (it killed this process, or exited): nothing is left to tell.
	if (process.connected) process.send?.(message);
};
const taskHost = new TaskHost(send);

process.on('message', (message: unknown) => {
	const run = message as Partial<ProcessRun> | null;
	if (typeof run === 'object' && run !== null && run.type === 'run' && run.request) {
		const { request } = run;
		void taskHost.runIteration(request).then((outcome) => {
			const reply: ProcessOutcome = { type: 'outcome', invocationId: request.invocationId, outcome };
			send(reply);
		});
		return;
	}
	taskHost.receive(message);
});
// Without its parent there is nobody to run iterations for.
process.on('disconnect', () => process.exit(0));

const hello: ProcessHello = { type: 'hello' };
send(hello);
