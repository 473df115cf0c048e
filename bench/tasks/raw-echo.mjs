// The floor: a plain worker that posts back whatever it receives.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (message) => parentPort.postMessage(message));
