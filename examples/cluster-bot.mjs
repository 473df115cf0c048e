// The discord-tasks cluster example: `npm run start:cluster`.
//
// A bot sharded with discord.js's ShardingManager: two shard processes (examples/cluster-shard.mjs) declare the same
// loops with the bullmq backend, and each tick runs once, in one of them. This file starts everything the example
// needs on this machine: a throw-away redis-server on a free 127.0.0.1 port, the loopback Discord gateway from
// `discord-tasks/testing` (with one guild on each shard), and the ShardingManager. It prints which shard process ran
// each loop's latest tick, and at the end a summary that counts every tick: each ran once, and where.
//
// Ctrl-C (or DEMO_DURATION_MS) stops it in order: the shards leave, then the gateway and Redis stop. Redis is killed
// when this process exits, however it exits. Needs redis-server on the PATH.
import { fileURLToPath } from 'node:url';
import { ShardingManager } from 'discord.js';
import { LoopbackGateway, startRedisServer } from 'discord-tasks/testing';
import { ago, pad } from './table.mjs';

const durationMs = Number(process.env.DEMO_DURATION_MS ?? 0);
const live = process.stdout.isTTY === true;
const SHARDS = 2;

// ---- what the shards report -------------------------------------------------------------------------------------

/** Every tick a shard started, by `loop/generation/target`: the processes that started it. */
const ticks = new Map();
/** Per loop: how many ticks each shard process ran. */
const ranBy = new Map();
/** Per loop: the iteration numbers seen, to find gaps. */
const iterations = new Map();
const guildChecks = { cached: 0, missed: 0, shards: new Set() };
/** The latest tasks.status() any shard reported (each shows the cluster's state of every loop). */
let status = [];
const pids = new Map();

function onShardMessage(message) {
	if (message?.cluster !== true) return;
	switch (message.kind) {
		case 'tick': {
			const id = `${message.loop}/${message.generation}/${message.target}`;
			ticks.set(id, [...(ticks.get(id) ?? []), message.shard]);
			const counts = ranBy.get(message.loop) ?? new Map();
			counts.set(message.shard, (counts.get(message.shard) ?? 0) + 1);
			ranBy.set(message.loop, counts);
			iterations.set(message.loop, [...(iterations.get(message.loop) ?? []), message.iteration]);
			return;
		}
		case 'guild':
			guildChecks[message.cached ? 'cached' : 'missed']++;
			guildChecks.shards.add(message.shard);
			return;
		case 'status':
			status = message.status;
			return;
	}
}

// ---- the table --------------------------------------------------------------------------------------------------

const shardNames = Array.from({ length: SHARDS }, (_, id) => `shard-${id}`);

function render() {
	const header = [
		pad('loop', 13),
		pad('where', 7),
		pad('state', 8),
		pad('ok', 4),
		pad('fail', 4),
		pad('retries', 7),
		...shardNames.map((name) => pad(name, 8)),
		pad('last run by', 12),
		pad('last run', 10),
		'next',
	].join(' ');
	const rows = status.map((s) => {
		const counts = ranBy.get(s.name) ?? new Map();
		return [
			pad(s.name, 13),
			pad(s.worker ? 'worker' : 'main', 7),
			pad(s.state, 8),
			pad(s.cluster?.successes ?? '-', 4),
			pad(s.cluster?.failures ?? '-', 4),
			pad(s.cluster?.retries ?? '-', 7),
			...shardNames.map((name) => pad(counts.get(name) ?? 0, 8)),
			pad(s.cluster?.lastIterationBy ?? '-', 12),
			pad(ago(s.cluster?.lastIterationAt), 10),
			ago(s.nextIteration),
		].join(' ');
	});
	const processes = shardNames.map((name) => `${name} pid ${pids.get(name) ?? '-'}`).join(', ');
	const footer = `ticks started: ${[...ticks.values()].length} | ${processes} | messages posted ${gateway.sentMessages.length}`;
	return [header, ...rows, footer];
}

let lastLines = 0;
function draw() {
	const lines = render();
	if (live) {
		process.stdout.write(`${lastLines ? `\x1b[${lastLines}F` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
		lastLines = lines.length;
	} else {
		console.log(`${lines.join('\n')}\n`);
	}
}

/** The proof: each tick ran once (no tick id twice, no iteration number skipped), and in which shard process. */
function summary() {
	const lines = ['', 'Summary: every tick the shard processes started, by loop'];
	lines.push(
		[pad('loop', 13), pad('ticks', 6), pad('duplicates', 10), pad('gaps', 5), ...shardNames.map((n) => pad(n, 8))].join(
			' ',
		),
	);
	let total = 0;
	let duplicates = 0;
	let gaps = 0;
	for (const [loop, counts] of ranBy) {
		const ids = [...ticks].filter(([id]) => id.startsWith(`${loop}/`));
		const doubled = ids.filter(([, shards]) => shards.length > 1).length;
		const seen = new Set(iterations.get(loop));
		const missing = Math.max(...seen) + 1 - seen.size;
		total += ids.length;
		duplicates += doubled;
		gaps += missing;
		lines.push(
			[
				pad(loop, 13),
				pad(ids.length, 6),
				pad(doubled, 10),
				pad(missing, 5),
				...shardNames.map((name) => pad(counts.get(name) ?? 0, 8)),
			].join(' '),
		);
	}
	const perShard = shardNames
		.map((name) => `${name} ran ${[...ticks.values()].filter((shards) => shards.includes(name)).length}`)
		.join(', ');
	lines.push(`Ticks: ${total}, duplicates: ${duplicates}, gaps: ${gaps}; ${perShard}.`);
	const owner = `shard-${Number((BigInt(reportGuildId) >> 22n) % BigInt(SHARDS))}`;
	lines.push(
		`guild-report (runOn guild ${reportGuildId}, held by ${owner}) ran on: ${[...guildChecks.shards].join(', ') || '-'}; found the guild in its cache ${guildChecks.cached} times, missed it ${guildChecks.missed} times.`,
	);
	const boards = gateway.sentMessages
		.map((message) => /^\*\*Leaderboard #(\d+)\*\*/.exec(message.content ?? '')?.[1])
		.filter((number) => number !== undefined);
	lines.push(
		`The gateway received ${boards.length} leaderboard posts, ${boards.length - new Set(boards).size} of them twice.`,
	);
	console.log(lines.join('\n'));
	return duplicates;
}

// ---- start ------------------------------------------------------------------------------------------------------

process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));
// A process group of its own: a Ctrl-C in the terminal does not stop Redis before the shards have left.
const redis = await startRedisServer({ detached: true });
const firstGuild = '1300000000000000010'; // (id >> 22) % 2 = 0: shard 0
const reportGuildId = String(BigInt(firstGuild) + (1n << 22n)); // the next one: shard 1
const gateway = new LoopbackGateway({
	heartbeatIntervalMs: 1000,
	guilds: [
		{ id: firstGuild, name: 'Loopback Guild' },
		{ id: reportGuildId, name: 'Loopback Guild 2' },
	],
});
await gateway.start();

const manager = new ShardingManager(fileURLToPath(new URL('./cluster-shard.mjs', import.meta.url)), {
	totalShards: SHARDS,
	token: 'loopback-demo-token',
	respawn: false, // a shard that exits stays down: the loops go on in the other one
});
// What the shard processes inherit (ShardingManager copies this process's environment into theirs).
Object.assign(process.env, {
	CLUSTER_REST_URL: gateway.address.restUrl,
	CLUSTER_REDIS_URL: redis.url,
	CLUSTER_CHANNEL_ID: gateway.channelId,
	CLUSTER_GUILD_ID: reportGuildId,
});
manager.on('shardCreate', (shard) => {
	shard.on('spawn', (child) => pids.set(`shard-${shard.id}`, child.pid));
	shard.on('message', onShardMessage);
});

let ticker;
let spawning;
let stopping = false;
async function shutdown(reason) {
	if (stopping) return;
	stopping = true;
	clearInterval(ticker);
	if (live && process.stdin.isTTY) {
		process.stdin.setRawMode(false);
		process.stdin.pause();
	}
	if (ticker) draw();
	console.log(
		`\n${reason}: the shard processes leave the cluster (running ticks may finish), then the gateway and Redis stop...`,
	);
	await spawning?.catch(() => {});
	await Promise.all(
		[...manager.shards.values()].map(
			(shard) =>
				new Promise((resolve) => {
					if (!shard.process || shard.process.exitCode !== null) return resolve();
					shard.process.once('exit', resolve);
					shard.send({ cluster: 'leave' }).catch(() => shard.kill());
				}),
		),
	);
	const duplicates = summary();
	await gateway.stop();
	await redis.stop();
	console.log('Stopped cleanly.');
	if (duplicates > 0) process.exitCode = 1;
}
if (live && process.stdin.isTTY) {
	process.stdin.setRawMode(true);
	process.stdin.resume();
	process.stdin.on('data', (key) => {
		const pressed = key.toString();
		if (pressed === 'q' || pressed === '\u0003') void shutdown('quit');
	});
}

console.log(
	`discord-tasks cluster example: Redis at ${redis.url}, the loopback gateway at ${gateway.address.gatewayUrl}, ${SHARDS} shard processes (ShardingManager). Ctrl-C to stop.`,
);
const startedAt = Date.now();
// Shards start one after the other, each once the previous one is ready. A Ctrl-C meanwhile waits for this.
spawning = manager.spawn({ amount: SHARDS, delay: 0, timeout: 30_000 });
spawning.catch(() => {});
try {
	await spawning;
} catch (error) {
	if (!stopping) {
		console.error(`A shard did not start: ${error?.message ?? error}`);
		process.exitCode = 1;
		await shutdown('start-up failed');
	}
}
if (!stopping) {
	const took = ((Date.now() - startedAt) / 1000).toFixed(1);
	console.log(
		`Both shards are ready after ${took} s: ${[...pids].map(([name, pid]) => `${name} (pid ${pid})`).join(', ')}.\n`,
	);
	ticker = setInterval(draw, live ? 1000 : 2000);
	if (durationMs > 0) setTimeout(() => void shutdown('DEMO_DURATION_MS'), durationMs);
}
