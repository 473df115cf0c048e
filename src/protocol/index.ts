export type { Cloneable } from './cloneable.js';
export { describeUncloneable } from './cloneable.js';
export { describeValue } from './describe-value.js';
export { portEndpoint } from './endpoint.js';
export type { DiscordTasksErrorOptions, IterationInfo, SerializedError, WorkerCrashInfo } from './errors.js';
export {
	DiscordAccessError,
	DiscordTasksError,
	deserializeError,
	ErrorCode,
	InvalidOptionError,
	LoopStateError,
	MAX_CAUSE_DEPTH,
	PoolClosedError,
	PoolQueueFullError,
	ProtocolError,
	REGISTERED_CODES,
	RemoteError,
	remoteClassChain,
	serializeError,
	TaskAbortedError,
	TaskError,
	TaskModuleError,
	TaskTimeoutError,
	WorkerCrashedError,
} from './errors.js';
export type {
	HostApi,
	HostResult,
	MessageAllowedMentions,
	MessageComponent,
	MessageEmbed,
	MessageFile,
	MessageFlagName,
	MessageOptions,
	MessagePayload,
	RestCallOptions,
} from './host-api.js';
export { RestMethod } from './host-api.js';
export type { TaskControl } from './task-control.js';
export type {
	RegisteredServices,
	RemoteServices,
	ServiceMap,
	TaskContext,
	TaskDefinition,
	TaskDiscord,
} from './task-definition.js';
export { isTaskDefinition, kTask } from './task-definition.js';
export type {
	InspectTaskOutcome,
	InspectTaskRequest,
	IterationOutcome,
	RunIterationRequest,
	TaskHandlers,
	TaskRef,
	WorkerHello,
} from './tasks.js';
export { TaskName, WORKER_HELLO } from './tasks.js';
export type { NumberRange, OptionKeys } from './validate.js';
export {
	assertClockTime,
	assertKnownKeys,
	assertMethods,
	assertNumber,
	assertOptionsObject,
	assertStringList,
	assertTimerMs,
	checkedRandom,
	describeRange,
	invalidOption,
	MAX_SCHEDULE_MS,
	MAX_TIMER_MS,
	optionKeySet,
} from './validate.js';
export { PROTOCOL_VERSION } from './version.js';
