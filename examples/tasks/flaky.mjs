// A task whose worker dies now and then: every third iteration the thread exits mid-run. The loop sees a
// WorkerCrashedError, backs off (it is retried by default), and the pool replaces the worker.
import { defineTask } from 'discord-tasks/worker';

let runsInThisWorker = 0;

export default defineTask(async () => {
	runsInThisWorker += 1;
	if (runsInThisWorker % 3 === 0) process.exit(1);
	return { worker: runsInThisWorker };
});
