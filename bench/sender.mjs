// The "gateway" of the responsiveness benchmark, in a process of its own: it connects to the benchmark over
// loopback TCP and sends its send time every 1–3 ms until told to stop. Another process, because an event sent
// from the main thread's own process could not arrive while that thread is blocked, and that is the point.
import { connect } from 'node:net';
import { sharedNowMs } from './common.mjs';

const port = Number(process.argv[2]);
const socket = connect({ host: '127.0.0.1', port, noDelay: true });
let timer;

function sendNext() {
	const frame = Buffer.allocUnsafe(8);
	frame.writeDoubleLE(sharedNowMs());
	socket.write(frame);
	// Random spacing: a fixed period could phase-lock with the job's 500 ms cycle.
	timer = setTimeout(sendNext, 1 + Math.random() * 2);
}

socket.on('connect', sendNext);
socket.on('end', () => {
	clearTimeout(timer);
	socket.end();
});
socket.on('error', () => clearTimeout(timer));
