// A CPU-bound body: keeps its worker busy for `ms` without yielding, like a leaderboard crunch.
import { performance } from 'node:perf_hooks';
import { defineTask } from 'discord-tasks/worker';

export default defineTask((_ctx, ms) => {
	const end = performance.now() + ms;
	while (performance.now() < end) {
		// Busy on purpose.
	}
});
