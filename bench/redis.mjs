// A throw-away redis-server for one benchmark process, as test/helpers/redis-server.ts starts one for a test file:
// a free 127.0.0.1 port, `--save '' --appendonly no --hz 100`, nothing kept on disk. It is killed when the benchmark
// ends, when it throws, and also when it is killed itself (bench/run.mjs SIGKILLs a hung benchmark): a small shell
// wrapper watches the benchmark's pid and kills the server once that pid is gone.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const WRAPPER = `
owner=$1; shift
redis-server "$@" >/dev/null &
server=$!
echo "$server"
while kill -0 "$owner" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.2; done
kill -9 "$server" 2>/dev/null
`;

function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

const alive = new Set();
let hooked = false;

function killServer(pid) {
	try {
		process.kill(pid, 'SIGKILL');
	} catch {
		// Already gone.
	}
	alive.delete(pid);
}

function hookExit() {
	if (hooked) return;
	hooked = true;
	process.once('exit', () => {
		for (const pid of alive) killServer(pid);
	});
	for (const signal of ['SIGINT', 'SIGTERM']) {
		process.once(signal, () => {
			for (const pid of alive) killServer(pid);
			process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
		});
	}
}

async function launch(port, dir) {
	const args = [
		...['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--hz', '100'],
		...['--daemonize', 'no', '--dir', dir, '--loglevel', 'warning'],
	];
	const wrapper = spawn('sh', ['-c', WRAPPER, 'sh', String(process.pid), ...args], {
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const pid = await new Promise((resolve, reject) => {
		let text = '';
		wrapper.stdout.on('data', (chunk) => {
			text += chunk;
			if (text.includes('\n')) resolve(Number.parseInt(text, 10));
		});
		wrapper.once('exit', (code) => reject(new Error(`redis-server wrapper exited (${code})`)));
	});
	alive.add(pid);
	// The wrapper need not keep this process alive: `stop()` or the exit hook ends the server, and the wrapper with it.
	wrapper.unref();
	wrapper.stdout.destroy();
	const deadline = Date.now() + 10_000;
	for (;;) {
		// A fresh client per attempt: ioredis does not connect again a client that failed to.
		const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
		client.on('error', () => {});
		try {
			await client.connect();
			await client.ping();
			return { pid, client };
		} catch (error) {
			client.disconnect();
			if (Date.now() > deadline) {
				killServer(pid);
				throw new Error(`redis-server did not answer on port ${port}: ${error.message}`);
			}
			await new Promise((resolve) => setTimeout(resolve, 25));
		}
	}
}

/** Parses an INFO reply into `{ field: string }`. */
function parseInfo(text) {
	const fields = {};
	for (const line of text.split('\r\n')) {
		const colon = line.indexOf(':');
		if (colon > 0 && !line.startsWith('#')) fields[line.slice(0, colon)] = line.slice(colon + 1);
	}
	return fields;
}

/**
 * Starts the server. `stats()` reads the figures the benchmarks compare: commands processed (total and per command)
 * and the server's CPU seconds; `stop()` kills it and removes its directory.
 */
export async function startRedis() {
	hookExit();
	const dir = mkdtempSync(join(tmpdir(), 'dt-bench-redis-'));
	for (let attempt = 0; ; attempt++) {
		const port = await freePort();
		let started;
		try {
			started = await launch(port, dir);
		} catch (error) {
			if (attempt < 3) continue;
			rmSync(dir, { recursive: true, force: true });
			throw error;
		}
		const { pid, client } = started;
		return {
			port,
			url: `redis://127.0.0.1:${port}`,
			client,
			async stats() {
				const info = parseInfo(await client.info('all'));
				const commands = {};
				for (const [field, value] of Object.entries(info)) {
					if (!field.startsWith('cmdstat_')) continue;
					commands[field.slice('cmdstat_'.length)] = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
				}
				return {
					total: Number(info.total_commands_processed),
					commands,
					cpuS: Number(info.used_cpu_user) + Number(info.used_cpu_sys),
				};
			},
			stop() {
				client.disconnect();
				killServer(pid);
				rmSync(dir, { recursive: true, force: true });
			},
		};
	}
}

/**
 * What happened between two `stats()` readings, per tick: commands (total and the busiest ones) and server CPU µs.
 * The reading itself (one INFO) is left out.
 */
export function perTick(before, after, ticks) {
	const commands = {};
	for (const [name, calls] of Object.entries(after.commands)) {
		const delta = calls - (before.commands[name] ?? 0) - (name === 'info' ? 1 : 0);
		if (delta > 0) commands[name] = delta / ticks;
	}
	return {
		commandsPerTick: (after.total - before.total - 1) / ticks,
		commands,
		redisCpuUsPerTick: ((after.cpuS - before.cpuS) * 1e6) / ticks,
	};
}
