import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertKnownKeys } from '../protocol/index.js';
import { invalidOption } from './invalid-option.js';

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
	/** More `redis-server` arguments, after the defaults (a later one wins): `['--requirepass', 'secret']`. */
	readonly args?: readonly string[];
	/**
	 * Puts the server in a process group of its own, so a Ctrl-C in the terminal reaches only this process, which
	 * can then stop its bot before the server. @defaultValue false
	 */
	readonly detached?: boolean;
	/** The executable. @defaultValue `'redis-server'` (from the PATH) */
	readonly executable?: string;
	/** How long to wait for the server to answer `PING`. @defaultValue 10_000 */
	readonly startTimeoutMs?: number;
}

/** A throw-away redis-server started by {@link startRedisServer}. */
export interface RedisServer {
	/** Its port on 127.0.0.1. */
	readonly port: number;
	/** `redis://127.0.0.1:<port>`: the `connection` of `bullmqBackend()`. */
	readonly url: string;
	/** The server's process id (it changes on {@link RedisServer.restart}). */
	readonly pid: number;
	/** Stops the server (SIGTERM, SIGKILL after 2 s) and removes its directory. Idempotent. */
	stop(): Promise<void>;
	/** Kills the server at once, as a crash would, and starts it again on the same port: an empty Redis. */
	restart(): Promise<void>;
	/** Freezes the server for `ms` (SIGSTOP, then SIGCONT): to its clients Redis is gone, then back. */
	pause(ms: number): Promise<void>;
	/** Sends one command and resolves with the raw reply (RESP): `await redis.command('CONFIG', 'SET', ...)`. */
	command(...args: string[]): Promise<string>;
}

/**
 * Runs redis-server under a small shell that watches this process: when this process is gone, even killed with
 * SIGKILL (which no exit handler sees), the shell kills the server and removes its directory. It prints the
 * server's pid first.
 */
const WATCHER = `
owner=$1; dir=$2; shift 2
"$@" >/dev/null &
server=$!
echo "$server"
while kill -0 "$owner" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.2; done
if ! kill -0 "$owner" 2>/dev/null; then
	kill -9 "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	rm -rf "$dir"
fi
`;

const OPTION_KEYS: ReadonlySet<string> = new Set([
	'args',
	'detached',
	'executable',
	'startTimeoutMs',
] satisfies (keyof RedisServerOptions)[]);

/** Every server this process started and has not stopped, with its directory: both go when this process exits. */
const running = new Map<number, string>();
let exitHooked = false;

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

function signal(pid: number, name: NodeJS.Signals): void {
	try {
		process.kill(pid, name);
	} catch {
		// Already gone.
	}
}

/** Sends `signal` and resolves once the process is gone (SIGKILL after 2 s). */
async function end(pid: number, first: NodeJS.Signals): Promise<void> {
	signal(pid, first);
	const deadline = Date.now() + 2000;
	while (isAlive(pid)) {
		if (Date.now() > deadline) signal(pid, 'SIGKILL');
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
	running.delete(pid);
}

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

/** Sends a command in RESP and resolves with the raw reply (one reply: enough for PING, CONFIG SET, INFO...). */
function send(port: number, args: readonly string[], timeoutMs = 1000): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = createConnection({ host: '127.0.0.1', port });
		let reply = '';
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`));
		}, timeoutMs);
		socket.once('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		socket.on('data', (chunk) => {
			reply += chunk.toString('utf8');
			clearTimeout(timer);
			// A bulk reply can come in pieces: wait a moment for the rest.
			setTimeout(() => {
				socket.end();
				resolve(reply);
			}, 5);
		});
		socket.write(`*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`);
	});
}

interface Launch {
	readonly port: number;
	readonly dir: string;
	readonly options: RedisServerOptions;
}

/** Starts the server under its watcher and resolves with its pid once it answers PING. */
async function launch({ port, dir, options }: Launch): Promise<number> {
	const args = [
		...['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
		// hz 100: Redis wakes blocked clients (BullMQ's delayed ticks) within 10 ms; with its default, 10, up to 100 ms
		// late. noeviction: the cluster backend refuses a Redis that may evict its keys.
		...['--hz', '100', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--dir', dir, '--loglevel', 'warning'],
		...(options.args ?? []),
	];
	const executable = options.executable ?? 'redis-server';
	const watcher: ChildProcess = spawn('sh', ['-c', WATCHER, 'sh', String(process.pid), dir, executable, ...args], {
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: options.detached === true,
	});
	let errors = '';
	watcher.stderr?.on('data', (chunk: Buffer) => {
		errors += chunk.toString('utf8');
	});
	const pid = await new Promise<number>((resolve, reject) => {
		let text = '';
		watcher.stdout?.on('data', (chunk: Buffer) => {
			text += chunk.toString('utf8');
			if (text.includes('\n')) resolve(Number.parseInt(text, 10));
		});
		watcher.once('error', (error) => reject(new Error(`Cannot start the redis-server watcher (sh): ${error.message}`)));
		watcher.once('exit', (code) => reject(new Error(`The redis-server watcher (sh) exited with code ${code}`)));
	});
	running.set(pid, dir);
	// The watcher need not keep this process alive: stop() or the exit hook ends the server, and the watcher with it.
	watcher.unref();
	watcher.stdout?.destroy();
	const timeoutMs = options.startTimeoutMs ?? 10_000;
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (!isAlive(pid)) {
			running.delete(pid);
			const reason = errors.trim() || 'it exited';
			throw new Error(
				/not found|No such file/i.test(reason)
					? `Cannot start ${executable}: it is not installed or not on the PATH (apt-get install redis-server)`
					: `${executable} did not start on port ${port}: ${reason}`,
			);
		}
		try {
			// A server with a password answers NOAUTH: it is up too.
			if (/^(\+PONG|-NOAUTH)/.test(await send(port, ['PING'], 200))) break;
		} catch {}
		if (Date.now() > deadline) {
			await end(pid, 'SIGKILL');
			throw new Error(`${executable} did not answer PING on port ${port} within ${timeoutMs} ms`);
		}
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	watcher.stderr?.destroy();
	return pid;
}

/**
 * Starts a throw-away redis-server on a free port of 127.0.0.1, for tests and examples of the cluster backend
 * (`discord-tasks/bullmq`): nothing is saved to disk (`--save '' --appendonly no`), blocked clients are woken
 * within 10 ms (`--hz 100`) and no key is evicted (`--maxmemory-policy noeviction`). The server is killed when this
 * process exits, even by SIGKILL. Needs `redis-server` (6.2 or later) on the PATH.
 *
 * @example
 * ```ts
 * const redis = await startRedisServer();
 * const tasks = new LoopController({ backend: bullmqBackend({ connection: redis.url }) });
 * // ...
 * await tasks.close();
 * await redis.stop();
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
	if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options, 'option');
	assertKnownKeys(options, OPTION_KEYS, 'startRedisServer()');
	const { args, detached, executable, startTimeoutMs } = options;
	if (args !== undefined && !(Array.isArray(args) && args.every((arg) => typeof arg === 'string'))) {
		throw invalidOption('args', 'an array of strings', args, 'option');
	}
	if (detached !== undefined && typeof detached !== 'boolean') {
		throw invalidOption('detached', 'a boolean', detached, 'option');
	}
	if (executable !== undefined && (typeof executable !== 'string' || executable === '')) {
		throw invalidOption('executable', 'a non-empty string', executable, 'option');
	}
	if (startTimeoutMs !== undefined && !(Number.isFinite(startTimeoutMs) && startTimeoutMs > 0)) {
		throw invalidOption('startTimeoutMs', 'a positive number of ms', startTimeoutMs, 'option');
	}
	if (!exitHooked) {
		exitHooked = true;
		process.once('exit', () => {
			for (const [pid, dir] of running) {
				signal(pid, 'SIGKILL');
				rmSync(dir, { recursive: true, force: true });
			}
		});
	}
	const dir = mkdtempSync(join(tmpdir(), 'discord-tasks-redis-'));
	for (let attempt = 0; ; attempt++) {
		// `--port 0` would mean "no TCP": the port is picked first, and one taken meanwhile is tried again.
		const port = await freePort();
		let pid: number;
		try {
			pid = await launch({ port, dir, options });
		} catch (error) {
			if (attempt < 3 && !/not installed/.test((error as Error).message)) continue;
			rmSync(dir, { recursive: true, force: true });
			throw error;
		}
		let stopped = false;
		return {
			port,
			url: `redis://127.0.0.1:${port}`,
			get pid() {
				return pid;
			},
			command: (...commandArgs) => send(port, commandArgs),
			async pause(ms) {
				signal(pid, 'SIGSTOP');
				await new Promise((resolve) => setTimeout(resolve, ms));
				signal(pid, 'SIGCONT');
			},
			async restart() {
				await end(pid, 'SIGKILL');
				pid = await launch({ port, dir, options });
			},
			async stop() {
				if (stopped) return;
				stopped = true;
				await end(pid, 'SIGTERM');
				rmSync(dir, { recursive: true, force: true });
			},
		};
	}
}
