// Kills its worker on the `crashAt`-th run in that worker. A fresh worker starts counting again, so the run right
// after a crash (the one the recovery benchmark times) succeeds.
import { defineTask } from 'discord-tasks/worker';

let runs = 0;

export default defineTask((_ctx, crashAt) => {
	runs += 1;
	if (runs === crashAt) process.exit(3);
});
