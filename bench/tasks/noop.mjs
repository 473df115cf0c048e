// The no-op body: what is left of an iteration is the loop's own work, the pool and the RPC.
import { defineTask } from 'discord-tasks/worker';

export default defineTask(() => undefined);
