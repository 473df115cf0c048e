export { describeOversized, MAX_COLLECTION_SIZE, MAX_VALUE_NODES } from './bounded.js';
export type { Cloneable } from './cloneable.js';
export { describeUncloneable } from './cloneable.js';
export { describeValue } from './describe-value.js';
export type { DiscordTasksErrorOptions, IterationInfo, SerializedError, WorkerCrashInfo } from './errors.js';
export {
	BackendError,
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
	ServiceNotFoundError,
	sanitizeSerializedError,
	serializeError,
	TaskAbortedError,
	TaskError,
	TaskModuleError,
	TaskResultError,
	TaskTimeoutError,
	WorkerCrashedError,
} from './errors.js';
export type {
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
export type { CancelMessage, HostCall, HostReply, MainToWorkerMessage, PreloadMessage } from './host-channel.js';
export { HostMethod, isMainToWorkerMessage, parseHostCall } from './host-channel.js';
export type {
	MainToProcessMessage,
	ProcessHello,
	ProcessOutcome,
	ProcessRun,
	ProcessToMainMessage,
} from './process-channel.js';
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
	IterationOutcome,
	RunIterationRequest,
	TaskHandlers,
	TaskKey,
	TaskRef,
	WorkerHello,
} from './tasks.js';
export { HELLO_KEY_ENV, PRELOAD_ENV, parseTaskKey, TaskName, taskKey, WORKER_HELLO } from './tasks.js';
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
