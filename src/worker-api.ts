export type { Cloneable, MessagePayload, RestCallOptions } from './protocol/index.js';
export type {
	RegisteredServices,
	RemoteServices,
	ServiceMap,
	TaskContext,
	TaskDefinition,
	TaskDiscord,
} from './worker/define-task.js';
export { defineTask } from './worker/define-task.js';
