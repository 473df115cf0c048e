export type {
	Cloneable,
	MessageAllowedMentions,
	MessageComponent,
	MessageEmbed,
	MessageFile,
	MessageFlagName,
	MessageOptions,
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
