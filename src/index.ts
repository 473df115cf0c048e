export type { ExponentialBackoffOptions } from './main/backoff.js';
export { ExponentialBackoff, MAX_BACKOFF_EXPONENT } from './main/backoff.js';
export type { Clock } from './main/clock.js';
export { MAX_TIMER_DELAY_MS, sleepUntil, systemClock } from './main/clock.js';
export type { LoopBackend } from './main/cluster/cluster-engine.js';
export type { ClusterLoopOptions, ClusterLoopStatus } from './main/cluster/cluster-loop.js';
export { Delivery } from './main/cluster/cluster-loop.js';
export type { ControllerLogger, LogFields, LogLevel, LogMethod } from './main/controller-logger.js';
export { stderrControllerLogger } from './main/controller-logger.js';
export type { TaskArgs } from './main/create-loop.js';
export { loop } from './main/create-loop.js';
export type { DiscordAllowlist } from './main/discord-allowlist.js';
export type { LoopControllerEventMap } from './main/events.js';
export { LoopEvent } from './main/events.js';
export type { Executor, Invocation } from './main/executor.js';
export type { LoopEndReason, LoopEventMap } from './main/loop.js';
export { Loop, LoopState } from './main/loop.js';
export type {
	ControllerLoopOptions,
	LoopArgs,
	LoopArgsByName,
	LoopControllerOptions,
	LoopStatus,
} from './main/loop-controller.js';
export { DEFAULT_LOOP_CONTROLLER_OPTIONS, LoopController } from './main/loop-controller.js';
export type { LoopErrorHook, LoopHook, LoopLogger, LoopOptions, LoopSettings } from './main/loop-options.js';
export { DEFAULT_LOOP_OPTIONS, stderrLogger } from './main/loop-options.js';
export type { ErrorSummary, LoopStatsSnapshot } from './main/loop-stats.js';
export { LATENESS_WINDOW } from './main/loop-stats.js';
export type { ExceptionType } from './main/retryable-errors.js';
export {
	DEFAULT_EXCEPTION_TYPES,
	RETRYABLE_NETWORK_CODES,
	RetryableDiscordError,
	RetryableNetworkError,
	RetryableTimeoutError,
} from './main/retryable-errors.js';
export type {
	CronScheduleOptions,
	IntervalScheduleOptions,
	Schedule,
	ScheduleOptions,
	TimeScheduleOptions,
} from './main/schedule.js';
export { MissedIterations } from './main/schedule.js';
export type { TaskPoolOptions } from './main/task-pool.js';
export { DEFAULT_TASK_POOL_OPTIONS, TaskPool } from './main/task-pool.js';
export type { TimeInput, TimeOfDay, TimeOfDayInput } from './main/time-of-day.js';
export type { WorkerLoopOptions } from './main/worker-executor.js';
export { DEFAULT_WORKER_LOOP_OPTIONS, Isolation } from './main/worker-executor.js';
export type { SerializedError, ServiceMap } from './protocol/index.js';
export {
	BackendError,
	DiscordAccessError,
	DiscordTasksError,
	ErrorCode,
	InvalidOptionError,
	LoopStateError,
	PoolClosedError,
	PoolQueueFullError,
	PROTOCOL_VERSION,
	ProtocolError,
	RemoteError,
	ServiceNotFoundError,
	TaskAbortedError,
	TaskError,
	TaskModuleError,
	TaskResultError,
	TaskTimeoutError,
	WorkerCrashedError,
} from './protocol/index.js';
