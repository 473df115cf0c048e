// A CPU-heavy leaderboard: ranks 300,000 members by a score computed from a day of made-up activity, then posts
// the top N. In a worker thread, the ~200 ms of number crunching never delays the bot's heartbeat or replies.
import { defineTask } from 'discord-tasks/worker';

function crunch(members, seed, signal) {
	const scores = new Float64Array(members);
	let x = seed >>> 0 || 1;
	for (let i = 0; i < members; i++) {
		// xorshift: deterministic "activity" per member
		let score = 0;
		for (let k = 0; k < 24; k++) {
			x ^= x << 13;
			x ^= x >>> 17;
			x ^= x << 5;
			score += (x >>> 0) % 100;
		}
		scores[i] = score;
		if ((i & 0xffff) === 0) signal.throwIfAborted();
	}
	const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a]);
	return order;
}

export default defineTask(async (ctx, channelId, top) => {
	const order = crunch(300_000, ctx.iteration + 1, ctx.signal);
	const lines = order.slice(0, top).map((member, rank) => `${rank + 1}. member-${member}`);
	await ctx.discord.send(channelId, { content: `**Leaderboard #${ctx.iteration + 1}**\n${lines.join('\n')}` });
	return { ranked: order.length };
});
