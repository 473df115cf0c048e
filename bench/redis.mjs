// A throw-away redis-server for one benchmark process: the package's own (`startRedisServer` of
// discord-tasks/testing, which the tests use too): a free 127.0.0.1 port, `--save '' --appendonly no --hz 100`,
// nothing kept on disk, killed when the benchmark ends, throws, or is SIGKILLed by bench/run.mjs. This module adds
// the figures the cluster benchmark reads from INFO.
import { startRedisServer } from 'discord-tasks/testing';
import { Redis } from 'ioredis';

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
	const server = await startRedisServer();
	const client = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 0 });
	client.on('error', () => {});
	await client.ping();
	return {
		port: server.port,
		url: server.url,
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
		async stop() {
			client.disconnect();
			await server.stop();
		},
	};
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
