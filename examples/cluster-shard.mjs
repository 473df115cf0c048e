// One shard process of the cluster example (`npm run start:cluster`): examples/cluster-bot.mjs starts two of these
// through discord.js's ShardingManager. Every process of a sharded bot runs this same file: the same LoopController,
// the same loops, the same start() calls. The bullmq backend makes each tick run once, in one of them.
//
// The manager passes, besides discord.js's own SHARDS / SHARD_COUNT / DISCORD_TOKEN:
//   CLUSTER_REST_URL     the loopback gateway's REST base (discord.js finds the gateway through it)
//   CLUSTER_REDIS_URL    the Redis the backend uses
//   CLUSTER_CHANNEL_ID   the channel the leaderboard and the digest post to
//   CLUSTER_GUILD_ID     the guild whose shard runs the `guild-report` loop (runOn)
// and reads what this process reports over IPC: each tick it starts, and its view of tasks.status().
import { Client, GatewayIntentBits } from 'discord.js';
import { LoopController } from 'discord-tasks';
import { bullmqBackend } from 'discord-tasks/bullmq';

const env = (name) => {
	const value = process.env[name];
	if (!value) throw new Error(`${name} is not set: run examples/cluster-bot.mjs, which starts this file per shard`);
	return value;
};
const channelId = env('CLUSTER_CHANNEL_ID');
const guildId = env('CLUSTER_GUILD_ID');

// discord.js reads SHARDS and SHARD_COUNT from the environment the ShardingManager set: this client holds its shard.
const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: env('CLUSTER_REST_URL') } });
const shardName = `shard-${client.shard.ids.join('+')}`;
const report = (message) =>
	new Promise((resolve) => {
		if (process.connected) process.send({ cluster: true, shard: shardName, ...message }, () => resolve());
		else resolve();
	});
// discord.js reports shard events to the manager too: once the manager is gone, those reports have nowhere to go.
process.on('error', (error) => {
	if (error.code !== 'ERR_IPC_CHANNEL_CLOSED') throw error;
});

const quiet = { warn() {}, error() {} }; // the manager's table shows failures; keep the terminal tidy
const tasks = new LoopController({
	client,
	pool: { threads: 2, graceMs: 500 },
	logger: quiet,
	backend: bullmqBackend({ connection: env('CLUSTER_REDIS_URL'), prefix: 'cluster-demo', processId: shardName }),
});

/**
 * The loops. A process takes ticks from the moment its controller connects, which the first `loop()` does: this
 * runs once the client is ready, so that no tick (a `runOn` one above all) finds this shard's cache still empty.
 */
function declareLoops() {
	// 1. CPU-heavy, in this process's worker pool: ~200 ms of ranking every 5 s, posted to the channel.
	tasks.loop(
		{ name: 'leaderboard', seconds: 5, waitUntilReady: true, timeoutMs: 10_000, discord: { channels: [channelId] } },
		new URL('./tasks/leaderboard.mjs', import.meta.url),
	);

	// 2. Cron, on the main thread: a digest every 10 seconds of the wall clock (every process must declare the same
	// schedule, so no schedule here depends on when the process started).
	tasks.loop({ name: 'digest', cron: '*/10 * * * * *', waitUntilReady: true }, async () => {
		const channel = await client.channels.fetch(channelId);
		if (channel?.isSendable()) await channel.send(`Digest from ${shardName} at ${new Date().toISOString()}`);
	});

	// 3. Flaky, in the pool: its worker exits every third run; the loop backs off and retries in the same tick.
	tasks.loop(
		{ name: 'flaky', seconds: 3, waitUntilReady: true, random: () => 0.25 },
		new URL('./tasks/flaky.mjs', import.meta.url),
	);

	// 4. Light, on the main thread: the guilds this shard's client sees, every second.
	tasks.loop({ name: 'presence', seconds: 1, waitUntilReady: true }, () => client.guilds.cache.size);

	// 5. runOn: the body runs in the process that holds this guild's shard, so it can read the guild from the cache.
	tasks.loop({ name: 'guild-report', seconds: 2, waitUntilReady: true, runOn: { guildId } }, () => {
		const guild = client.guilds.cache.get(guildId);
		void report({ kind: 'guild', cached: guild !== undefined });
		return guild?.name ?? null;
	});
}

// What the manager counts: every tick this process starts (retries of a tick are not new ticks).
tasks.on('iterationStarted', (loop, { iteration, target, retry }) => {
	if (!retry)
		void report({
			kind: 'tick',
			loop: loop.name,
			generation: loop.cluster?.generation ?? 0,
			iteration,
			target: target.getTime(),
		});
});
const statusTimer = setInterval(() => report({ kind: 'status', status: tasks.status() }), 1000);

let closing;
function leave() {
	closing ??= (async () => {
		clearInterval(statusTimer);
		// This process leaves the cluster; the loops go on in the other shard processes.
		await tasks.close({ timeoutMs: 5000 });
		await client.destroy();
		await report({ kind: 'left' });
		process.exit(0);
	})();
	return closing;
}
// The manager says when to leave. Ctrl-C in a terminal reaches every process of the group: the manager handles it.
process.on('message', (message) => {
	if (message?.cluster === 'leave') void leave();
});
process.on('SIGINT', () => {});
// The manager is gone (it crashed or was killed): leave on our own.
process.once('disconnect', () => void leave());

const ready = new Promise((resolve) => client.once('clientReady', resolve));
await client.login();
await ready;
if (closing) await closing; // asked to leave while logging in
declareLoops();
try {
	await tasks.connect(); // Redis reachable, no eviction: otherwise a BackendError that says what to do
} catch (error) {
	console.error(`${shardName}: ${error.message}`);
	process.exit(1);
}
// Every process starts every loop: the first start() begins the cluster-wide run, the others join it.
for (const loop of tasks.list()) {
	const run = loop.name === 'leaderboard' ? tasks.start(loop.name, channelId, 5) : tasks.start(loop.name);
	run.catch((error) => console.error(`${shardName}: loop '${loop.name}' ended: ${error.message}`));
}
