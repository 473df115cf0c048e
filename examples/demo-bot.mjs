// The discord-tasks demo bot: `npm start`.
//
// Without DISCORD_TOKEN it starts the loopback Discord gateway from `discord-tasks/testing` and logs the real
// discord.js client into it; with DISCORD_TOKEN and DISCORD_CHANNEL_ID it runs against Discord. It runs four
// loops and shows their status live: Ctrl-C shuts everything down in order. DEMO_DURATION_MS stops it by itself.
//
// Keys (in a terminal): t answers `/tasks list` through the bot's slash command, m prints the Prometheus metrics,
// q quits. Flags: --metrics prints the metrics text when the demo stops; --tasks-list answers `/tasks list` once
// after 6 s (what a non-interactive run shows).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client, GatewayIntentBits } from 'discord.js';
import { LoopController } from 'discord-tasks';
import { TasksCommand } from 'discord-tasks/commands';
import { LoopMetrics } from 'discord-tasks/prometheus';
import { LoopbackGateway } from 'discord-tasks/testing';
import { Registry } from 'prom-client';
import { ago, pad } from './table.mjs';

const token = process.env.DISCORD_TOKEN;
const durationMs = Number(process.env.DEMO_DURATION_MS ?? 0);
const live = process.stdout.isTTY === true;
const printMetricsAtEnd = process.argv.includes('--metrics');
const answerTasksListOnce = process.argv.includes('--tasks-list') || !live;

let gateway;
let channelId = process.env.DISCORD_CHANNEL_ID;
if (!token) {
	gateway = new LoopbackGateway({ heartbeatIntervalMs: 1000 });
	await gateway.start();
	channelId = gateway.channelId;
} else if (!channelId) {
	console.error('DISCORD_TOKEN is set: also set DISCORD_CHANNEL_ID to the channel the demo may post to.');
	process.exit(1);
}

const client = new Client({ intents: [GatewayIntentBits.Guilds], ...(gateway ? gateway.clientOptions() : {}) });
const quiet = { warn() {}, error() {} }; // the status table shows failures and lateness; keep the terminal tidy
const tasks = new LoopController({ client, pool: { threads: 2, graceMs: 500 }, logger: quiet });

// Prometheus metrics in a registry of their own (a bot would serve `registry.metrics()` on /metrics).
const registry = new Registry();
new LoopMetrics(tasks, { registry });

// The /tasks slash command, answered by this bot. On the loopback gateway, the demo plays the server member.
const tasksCommand = new TasksCommand(tasks);
tasksCommand.listen(client);
/** Aborted when the demo stops: a /tasks answer still awaited then is no longer waited for. */
const stopped = new AbortController();
async function registerTasksCommand(ready) {
	await ready.application.commands.create(tasksCommand.toJSON(), gateway ? gateway.guildId : undefined);
	if (answerTasksListOnce && gateway) {
		const timer = setTimeout(() => void showTasksList(), 6000);
		stopped.signal.addEventListener('abort', () => clearTimeout(timer));
	}
}
client.once('clientReady', (ready) => void registerTasksCommand(ready));

// 1. CPU-heavy, in the worker pool: ~200 ms of ranking every 5 s, posted to the channel.
tasks.loop(
	{ name: 'leaderboard', seconds: 5, waitUntilReady: true, timeoutMs: 10_000, discord: { channels: [channelId] } },
	new URL('./tasks/leaderboard.mjs', import.meta.url),
);

// 2. Time of day: a digest at fixed wall-clock times (here the next 60 quarter-minutes, in two time zones).
const slots = [];
const first = Math.ceil(Date.now() / 15_000) * 15_000;
for (let i = 0; i < 60; i++) {
	const at = new Date(first + i * 15_000);
	const zone = i % 2 === 0 ? 'UTC' : 'Asia/Kolkata';
	const [hour, minute, second] = new Intl.DateTimeFormat('en-GB', {
		timeZone: zone,
		hour: '2-digit',
		minute: '2-digit',
		second: '2-digit',
		hourCycle: 'h23',
	})
		.format(at)
		.split(':')
		.map(Number);
	slots.push({ hour, minute, second, timeZone: zone });
}
let digests = 0;
tasks.loop({ name: 'digest', time: slots, waitUntilReady: true, logger: quiet }, async () => {
	digests += 1;
	const channel = await client.channels.fetch(channelId);
	if (channel?.isSendable()) await channel.send(`Digest #${digests} at ${new Date().toISOString()}`);
});

// 3. Flaky, in the pool: its worker exits every third run; the loop backs off and recovers.
tasks.loop(
	{ name: 'flaky', seconds: 3, waitUntilReady: true, logger: quiet, random: () => 0.25 },
	new URL('./tasks/flaky.mjs', import.meta.url),
);

// 4. Light, on the main thread: counts the guilds the client sees every second.
let guilds = 0;
tasks.loop({ name: 'presence', seconds: 1, waitUntilReady: true }, () => {
	guilds = client.guilds.cache.size;
});

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();

function ms(value) {
	return value === null ? '-' : `${value.toFixed(0)} ms`;
}
function lastError(s) {
	if (!s.lastError) return '';
	const message = s.lastError.message.replace(/^The worker running loop '[^']+' /, 'worker ');
	// An error stays in the status after the loop recovers: say how old it is, and whether a success followed.
	const state = s.consecutiveFailures === 0 ? 'recovered' : `failing x${s.consecutiveFailures}`;
	return `${ago(s.lastErrorAt)} (${state}) ${s.lastError.name}: ${message}`;
}
function render() {
	const rows = tasks
		.status()
		.map((s) =>
			[
				pad(s.name, 12),
				pad(s.worker ? 'worker' : 'main', 7),
				pad(s.state, 9),
				pad(s.successes, 4),
				pad(s.failures, 4),
				pad(s.retries, 7),
				pad(ago(s.nextIteration), 10),
				pad(ms(s.lastLatenessMs), 8),
				pad(ms(s.latenessP99Ms), 8),
				pad(ms(s.lastDurationMs), 8),
				lastError(s),
			].join(' '),
		);
	const header = [
		'loop        ',
		'where  ',
		'state    ',
		'ok  ',
		'fail',
		'retries',
		'next      ',
		'late    ',
		'late p99',
		'took    ',
		'last error',
	].join(' ');
	const lagMax = (delay.max / 1e6).toFixed(1);
	const lagP99 = (delay.percentile(99) / 1e6).toFixed(1);
	const footer = `main thread: event-loop delay p99 ${lagP99} ms, max ${lagMax} ms | gateway ping ${client.ws.ping} ms | guilds ${guilds} | messages posted ${gateway ? gateway.sentMessages.length : '-'}`;
	const keys = live ? 'keys: t /tasks list, m metrics, q quit' : '';
	delay.reset();
	// One screen line per line, whatever the terminal's width: the redraw moves the cursor up by line count.
	const width = Math.max(40, (process.stdout.columns || 160) - 1);
	return [header, ...rows, footer, ...(keys ? [keys] : []), ...extra].map((line) =>
		line.length > width ? `${line.slice(0, width - 1)}…` : line,
	);
}

/** Lines shown under the table: the last /tasks answer. */
let extra = [];

/** Runs `/tasks list` as the server's owner on the loopback gateway and shows the bot's ephemeral answer. */
async function showTasksList() {
	if (!gateway) {
		extra = ['/tasks list: run it in your Discord server (the command is registered for this bot)'];
		return;
	}
	if (stopped.signal.aborted) return;
	const { id } = gateway.injectInteraction({ commandName: tasksCommand.name, options: [{ type: 1, name: 'list' }] });
	let response;
	try {
		[response] = await gateway.waitForInteractionResponses(1, { interactionId: id, signal: stopped.signal });
	} catch (error) {
		if (!stopped.signal.aborted) extra = [`/tasks list: no answer (${error.message})`];
		return;
	}
	const fields = response.embeds[0]?.fields ?? [];
	// Discord renders <t:…:R> as "5 seconds ago" in each reader's time zone; the terminal gets the same words.
	const plain = (text) =>
		text.replace(/<t:(\d+):R>/g, (_, s) => ago(new Date(Number(s) * 1000).toISOString())).replaceAll('**', '');
	extra = [
		`/tasks list, answered by the bot${response.ephemeral ? ' (ephemeral)' : ''}:`,
		...fields.flatMap((field) => [
			`  ${field.name}`,
			...plain(field.value)
				.split('\n')
				.map((line) => `    ${line}`),
		]),
	];
	if (!live) console.log(extra.join('\n'));
}

async function printMetrics() {
	const text = await registry.metrics();
	const lines = text.split('\n').filter((line) => line.startsWith('discord_tasks_') && !line.includes('_bucket{'));
	console.log(`\n${lines.join('\n')}\n`);
	lastLines = 0; // the table redraws below the printout
}

if (live && process.stdin.isTTY) {
	process.stdin.setRawMode(true);
	process.stdin.resume();
	process.stdin.on('data', (key) => {
		const pressed = key.toString();
		if (pressed === 't') void showTasksList();
		else if (pressed === 'm') void printMetrics();
		else if (pressed === 'q' || pressed === '\u0003') void shutdown('quit');
	});
}

let lastLines = 0;
const ticker = setInterval(
	() => {
		const lines = render();
		if (live) {
			process.stdout.write(`${lastLines ? `\x1b[${lastLines}F` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
			lastLines = lines.length;
		} else {
			console.log(lines.join('\n'));
		}
	},
	live ? 500 : 5000,
);

let stopping = false;
async function shutdown(signal) {
	if (stopping) return;
	stopping = true;
	stopped.abort();
	clearInterval(ticker);
	if (process.stdin.isTTY) {
		process.stdin.setRawMode(false);
		process.stdin.pause();
	}
	if (printMetricsAtEnd) await printMetrics();
	console.log(`\n${signal}: stopping loops (running iterations may finish), then the pool and the client...`);
	await tasks.close({ timeoutMs: 5000 });
	await client.destroy();
	await gateway?.stop();
	console.log('Stopped cleanly.');
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

console.log(
	gateway
		? `discord-tasks demo: discord.js is logged into the loopback gateway at ${gateway.address.gatewayUrl} (set DISCORD_TOKEN to use Discord). Ctrl-C to stop.`
		: 'discord-tasks demo: logging into Discord. Ctrl-C to stop.',
);
for (const loop of tasks.list()) {
	if (loop.name === 'leaderboard') void tasks.start(loop.name, channelId, 5);
	else void tasks.start(loop.name);
}
await client.login(token ?? 'loopback-demo-token');
if (durationMs > 0) setTimeout(() => void shutdown('DEMO_DURATION_MS'), durationMs);
