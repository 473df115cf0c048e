export type {
	Cloneable,
	MessagePayload,
	RegisteredServices,
	RemoteServices,
	RestCallOptions,
	ServiceMap,
	TaskContext,
	TaskDefinition,
	TaskDiscord,
} from './protocol/index.js';
export { defineTask } from './worker/define-task.js';
