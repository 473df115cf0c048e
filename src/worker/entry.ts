/**
 * The worker host: piscina's `filename`. It sets up this worker's two persistent comlink channels as it loads and
 * exports one handler per task name. Nothing else happens at load.
 */
import { MessageChannel, parentPort, threadId } from 'node:worker_threads';
import { expose, wrap } from 'comlink';
import { type HostApi, PROTOCOL_VERSION, portEndpoint, WORKER_HELLO, type WorkerHello } from '../protocol/index.js';
import { TaskHost } from './task-host.js';

const hostChannel = new MessageChannel();
const controlChannel = new MessageChannel();
const taskHost = new TaskHost(wrap<HostApi>(portEndpoint(hostChannel.port1)));
expose(taskHost.control, portEndpoint(controlChannel.port1));
// The ports must not keep an idle worker alive: piscina decides when a worker ends.
hostChannel.port1.unref();
controlChannel.port1.unref();

// piscina re-emits any non-ready message a worker posts as the pool's 'message' event: that is how the main
// side receives this worker's ports (it cannot post to a worker's parentPort itself without confusing piscina).
const hello: WorkerHello = {
	type: WORKER_HELLO,
	protocolVersion: PROTOCOL_VERSION,
	threadId,
	hostPort: hostChannel.port2,
	controlPort: controlChannel.port2,
};
parentPort?.postMessage(hello, [hostChannel.port2, controlChannel.port2]);

export const { runIteration, inspectTask } = taskHost.handlers;
export default runIteration;
