import { TaskTimeoutError, WorkerCrashedError } from '../protocol/index.js';
import type { LogSink } from './controller-logger.js';
import type { Loop, LoopEventMap } from './loop.js';
import { type AttemptReport, LoopStats } from './loop-stats.js';

type Info<E extends keyof LoopEventMap> = LoopEventMap[E][0];

/**
 * What a controller does with one loop's events besides re-emitting them: counts them ({@link LoopStats}) and logs
 * them with structured fields. Debug records are built only when debug is on: they are written on every firing.
 *
 * Levels: `debug` for every attempt started and completed, `info` for runs starting and ending and for skipped
 * targets, `warn` for overruns. Failures are not logged here: the loop's own logger (which the controller gives it)
 * already warns about a retry and reports an error that ends a run.
 * @internal
 */
export class LoopObserver {
	/** The loop's counters and measurements. */
	readonly stats: LoopStats;
	readonly #loop: Loop<readonly unknown[]>;
	readonly #log: LogSink;
	#iteration = 0;

	constructor(loop: Loop<readonly unknown[]>, log: LogSink) {
		this.#loop = loop;
		this.#log = log;
		this.stats = new LoopStats(loop);
	}

	/** `loopStarted`. */
	loopStarted(): void {
		this.stats.runStarted();
		if (this.#log.isEnabled('info'))
			this.#log.log('info', `Loop '${this.#loop.name}' started`, { loop: this.#loop.name });
	}

	/** `iterationStarted`. */
	iterationStarted(info: Info<'iterationStarted'>): void {
		this.#iteration = info.iteration;
		const { skipped } = this.stats.started(info);
		const name = this.#loop.name;
		if (skipped > 0 && this.#log.isEnabled('info')) {
			this.#log.log('info', `Loop '${name}' skipped ${skipped} target(s): iteration ${info.iteration} started late`, {
				loop: name,
				iteration: info.iteration,
				latenessMs: info.latenessMs,
				skipped,
			});
		}
		if (this.#log.isEnabled('debug')) {
			this.#log.log('debug', `Loop '${name}' iteration ${info.iteration} started ${info.latenessMs} ms late`, {
				loop: name,
				iteration: info.iteration,
				...(info.target ? { target: info.target.toISOString() } : {}),
				latenessMs: info.latenessMs,
				retry: info.retry,
			});
		}
	}

	/** `iterationCompleted`. */
	iterationCompleted(info: Info<'iterationCompleted'>): void {
		this.#reportOverrun(info.durationMs, this.stats.finished(info.durationMs));
		if (this.#log.isEnabled('debug')) {
			const name = this.#loop.name;
			this.#log.log('debug', `Loop '${name}' iteration ${info.iteration} completed in ${info.durationMs} ms`, {
				loop: name,
				iteration: info.iteration,
				durationMs: info.durationMs,
			});
		}
	}

	/** `iterationFailed`. */
	iterationFailed(info: Info<'iterationFailed'>): void {
		if (info.error instanceof WorkerCrashedError) this.stats.workerCrashed();
		else if (info.error instanceof TaskTimeoutError) this.stats.timedOut();
		this.#reportOverrun(info.durationMs, this.stats.finished(info.durationMs, info));
	}

	/** `loopStopped`. */
	loopStopped(info: Info<'loopStopped'>): void {
		if (info.reason === 'failed') this.stats.failedWith(info.error);
		if (this.#log.isEnabled('info')) {
			const name = this.#loop.name;
			this.#log.log(
				'info',
				`Loop '${name}' ended (${info.reason})`,
				info.reason === 'failed'
					? { loop: name, reason: info.reason, err: info.error }
					: { loop: name, reason: info.reason },
			);
		}
	}

	#reportOverrun(durationMs: number, report: AttemptReport): void {
		if (!report.overran || !this.#log.isEnabled('warn')) return;
		const name = this.#loop.name;
		this.#log.log(
			'warn',
			`Loop '${name}' iteration ${this.#iteration} ran ${durationMs} ms, past its next target ${report.intervalMs} ms after it started`,
			{ loop: name, iteration: this.#iteration, durationMs, intervalMs: report.intervalMs },
		);
	}
}
