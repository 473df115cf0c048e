import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A redis-server started for one test file. */
export interface RedisServer {
	readonly port: number;
	readonly url: string;
	/** Stops the server (SIGTERM, then SIGKILL); idempotent. */
	stop(): Promise<void>;
	/** Kills the server at once, as a crash would, and starts it again on the same port (an empty Redis). */
	restart(): Promise<void>;
	/** Freezes the server for `ms` (SIGSTOP, then SIGCONT): to the clients, Redis is gone and comes back. */
	pause(ms: number): Promise<void>;
	/** Runs one command (inline protocol) and returns the raw reply. */
	command(...args: string[]): Promise<string>;
}

const servers = new Set<ChildProcess>();
let hooked = false;

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

/** Sends a command in RESP and resolves with the whole raw reply (enough for PING, CONFIG SET, INFO...). */
function send(port: number, args: readonly string[], timeoutMs = 1000): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = createConnection({ host: '127.0.0.1', port });
		let reply = '';
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error('redis did not answer'));
		}, timeoutMs);
		socket.once('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		socket.on('data', (chunk) => {
			reply += chunk.toString('utf8');
			clearTimeout(timer);
			// One reply is enough: wait a moment for the rest of a bulk string.
			setTimeout(() => {
				socket.end();
				resolve(reply);
			}, 5);
		});
		socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
	});
}

function launch(port: number, dir: string, extra: readonly string[]): ChildProcess {
	const child = spawn(
		'redis-server',
		[
			'--bind',
			'127.0.0.1',
			'--port',
			String(port),
			'--save',
			'',
			'--appendonly',
			'no',
			'--hz',
			'100',
			'--daemonize',
			'no',
			'--dir',
			dir,
			'--loglevel',
			'warning',
			...extra,
		],
		{ stdio: 'ignore' },
	);
	servers.add(child);
	child.once('exit', () => servers.delete(child));
	return child;
}

async function waitForPong(port: number, child: ChildProcess): Promise<void> {
	const deadline = Date.now() + 10_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
		try {
			if (/^(\+PONG|-NOAUTH)/.test(await send(port, ['PING'], 200))) return; // a password-protected server is up too
		} catch {}
		if (Date.now() > deadline) throw new Error('redis-server did not start within 10 s');
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
		child.once('exit', () => {
			clearTimeout(timer);
			resolve();
		});
		child.kill(signal);
	});
}

/**
 * Starts a throw-away redis-server on a free 127.0.0.1 port (`--save '' --appendonly no --hz 100`), killed when the
 * test process exits even if a test throws. `--port 0` would mean "no TCP", so the port is picked first; a port
 * taken in between is retried.
 */
export async function startRedis(extra: readonly string[] = []): Promise<RedisServer> {
	if (!hooked) {
		hooked = true;
		process.once('exit', () => {
			for (const child of servers) child.kill('SIGKILL');
		});
	}
	const dir = mkdtempSync(join(tmpdir(), 'dt-redis-'));
	for (let attempt = 0; ; attempt++) {
		const port = await freePort();
		let child = launch(port, dir, extra);
		try {
			await waitForPong(port, child);
		} catch (error) {
			await kill(child, 'SIGKILL');
			if (attempt < 3) continue;
			throw error;
		}
		return {
			port,
			url: `redis://127.0.0.1:${port}`,
			command: (...args) => send(port, args),
			async pause(ms) {
				child.kill('SIGSTOP');
				await new Promise((resolve) => setTimeout(resolve, ms));
				child.kill('SIGCONT');
			},
			async restart() {
				await kill(child, 'SIGKILL');
				child = launch(port, dir, extra);
				await waitForPong(port, child);
			},
			async stop() {
				await kill(child, 'SIGTERM');
				rmSync(dir, { recursive: true, force: true });
			},
		};
	}
}
