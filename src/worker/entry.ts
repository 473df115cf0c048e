/**
 * The worker host: piscina's `filename`, built as CommonJS. piscina loads it with `require()`; an ES module there
 * goes through `require(esm)`, and Node 20 aborts the whole process (`v8::Module::IsGraphAsync`) when a worker is
 * terminated while it loads one. Task modules are loaded later with a real dynamic `import()`.
 *
 * As it loads, before any task module, it takes the pool's hello key out of the environment and posts the hello
 * that gives the main side this worker's end of its host channel.
 */
import { MessageChannel, parentPort, threadId } from 'node:worker_threads';
import { HELLO_KEY_ENV, PRELOAD_ENV, type TaskRef, WORKER_HELLO, type WorkerHello } from '../protocol/index.js';
import { TaskHost } from './task-host.js';

const key = process.env[HELLO_KEY_ENV] ?? '';
delete process.env[HELLO_KEY_ENV];
const preload = readPreload(process.env[PRELOAD_ENV]);
delete process.env[PRELOAD_ENV];

/** The task modules to import before this worker reports ready; junk in the variable means none. */
function readPreload(json: string | undefined): TaskRef[] {
	try {
		const refs: unknown = JSON.parse(json ?? '[]');
		return Array.isArray(refs)
			? refs.filter((ref): ref is TaskRef => typeof ref?.moduleUrl === 'string' && typeof ref?.exportName === 'string')
			: [];
	} catch {
		return [];
	}
}

const channel = new MessageChannel();
const taskHost = new TaskHost((call) => channel.port1.postMessage(call));
channel.port1.on('message', (message: unknown) => taskHost.receive(message));
// The port must not keep an idle worker alive: piscina decides when a worker ends.
channel.port1.unref();

// piscina re-emits any non-ready message a worker posts as the pool's 'message' event: that is how the main
// side receives this worker's port (it cannot post to a worker's parentPort itself without confusing piscina).
const hello: WorkerHello = {
	type: WORKER_HELLO,
	threadId,
	key,
	port: channel.port2,
};
parentPort?.postMessage(hello, [channel.port2]);

// piscina awaits the handler it looks up before it marks the worker ready: exporting a promise of the handler
// makes a new worker import the task modules its pool has run first, so the first iteration it gets (often the
// retry after a crash) does not wait for them.
const { runIteration: handler } = taskHost.handlers;
export const runIteration = taskHost.preload(preload).then(() => handler);
export default runIteration;
