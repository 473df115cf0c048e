import { Counter, Gauge, register as globalRegistry, type Registry } from 'prom-client';
import type { LoopControllerEventMap } from '../main/events.js';
import type { Loop } from '../main/loop.js';
import { LoopState } from '../main/loop.js';
import type { LoopController, LoopStatus } from '../main/loop-controller.js';
import { assertKnownKeys, describeValue, InvalidOptionError } from '../protocol/index.js';
import { type HistogramSeries, LoopHistogram } from './loop-histogram.js';

/** Options of {@link LoopMetrics}. */
export interface LoopMetricsOptions {
	/** The registry to register the metrics in. @defaultValue prom-client's global `register` */
	readonly registry?: Registry;
	/** Prepended to every metric name, as prom-client's `collectDefaultMetrics({ prefix })`. @defaultValue 'discord_tasks_' */
	readonly prefix?: string;
	/** Buckets of the iteration duration histogram, in seconds. @defaultValue {@link DEFAULT_DURATION_BUCKETS} */
	readonly durationBuckets?: readonly number[];
	/** Buckets of the lateness histogram, in seconds. @defaultValue {@link DEFAULT_LATENESS_BUCKETS} */
	readonly latenessBuckets?: readonly number[];
}

/** prom-client's default buckets, in seconds: what its `Histogram` uses without `buckets`. */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Lateness buckets, in seconds: from a millisecond (timer precision) to ten seconds (a stalled event loop). */
export const DEFAULT_LATENESS_BUCKETS: readonly number[] = [
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Defaults of {@link LoopMetricsOptions}. */
export const DEFAULT_LOOP_METRICS_OPTIONS = {
	prefix: 'discord_tasks_',
	durationBuckets: DEFAULT_DURATION_BUCKETS,
	latenessBuckets: DEFAULT_LATENESS_BUCKETS,
} as const satisfies LoopMetricsOptions;

const OPTION_KEYS = new Set(['registry', 'prefix', 'durationBuckets', 'latenessBuckets']);
const STATES = Object.values(LoopState);

type AnyLoop = Loop<readonly unknown[]>;
type Listener<E extends keyof LoopControllerEventMap> = (...args: LoopControllerEventMap[E]) => void;

/** A counter whose value is read from `status()` at each scrape, one series per loop. */
interface StatusCounter {
	readonly name: string;
	readonly help: string;
	readonly value: (status: LoopStatus) => number;
}

/** Counters read from the controller's own counts: they always agree with `status()`, and cost nothing per firing. */
const STATUS_COUNTERS: readonly StatusCounter[] = [
	{
		name: 'retries_total',
		help: 'Attempts that retried a failed attempt, after a backoff delay.',
		value: (s) => s.retries,
	},
	{
		name: 'skipped_iterations_total',
		help: "Targets an interval loop dropped with missedIterations: 'skip' because an iteration started an interval late.",
		value: (s) => s.skippedIterations,
	},
	{ name: 'overruns_total', help: 'Attempts still running when the next target came.', value: (s) => s.overruns },
	{
		name: 'worker_crashes_total',
		help: 'Attempts whose worker thread or process died.',
		value: (s) => s.workerCrashes,
	},
	{ name: 'worker_timeouts_total', help: 'Attempts that ran past timeoutMs.', value: (s) => s.timeouts },
];

function assertBuckets(value: unknown, option: string): void {
	if (
		value !== undefined &&
		(!Array.isArray(value) || value.length === 0 || value.some((b) => typeof b !== 'number' || !(b > 0)))
	) {
		throw new InvalidOptionError(
			option,
			`\`${option}\` must be a non-empty array of numbers > 0, got ${describeValue(value)}`,
		);
	}
}

/**
 * Prometheus metrics of a {@link LoopController}'s loops, through prom-client (an optional peer dependency), named
 * the way prom-client's default metrics are: a prefix, snake case, base units (`_seconds`), `_total` counters.
 *
 * Histograms are observed as iterations start and end; counters, states and pool gauges are read from the
 * controller at each scrape.
 *
 * @example
 * ```ts
 * import { register } from 'prom-client';
 * import { LoopMetrics } from 'discord-tasks/prometheus';
 *
 * new LoopMetrics(tasks); // in prom-client's global registry
 * http.createServer(async (_req, res) => {
 *   res.setHeader('Content-Type', register.contentType);
 *   res.end(await register.metrics());
 * }).listen(9464);
 * ```
 */
export class LoopMetrics {
	/** The registry the metrics are in. */
	readonly registry: Registry;
	readonly #controller: LoopController;
	readonly #names: string[] = [];
	readonly #duration: LoopHistogram;
	readonly #lateness: LoopHistogram;
	/** Each loop's series, found by the loop itself: nothing is looked up by label on a firing. */
	readonly #series = new WeakMap<
		AnyLoop,
		{ lateness: HistogramSeries; success: HistogramSeries; failure: HistogramSeries }
	>();
	readonly #listeners: { [E in keyof LoopControllerEventMap]?: Listener<E> };

	/**
	 * Registers the metrics and starts observing the controller's loops.
	 * @throws {@link InvalidOptionError} naming the option and the value it got; prom-client's error if a metric of
	 * the same name is already registered (use another `prefix` or `registry`).
	 */
	constructor(controller: LoopController, options: LoopMetricsOptions = {}) {
		if (typeof options !== 'object' || options === null) {
			throw new InvalidOptionError('options', `LoopMetrics options must be an object, got ${describeValue(options)}`);
		}
		assertKnownKeys(options, OPTION_KEYS, 'LoopMetrics');
		const prefix = options.prefix ?? DEFAULT_LOOP_METRICS_OPTIONS.prefix;
		if (typeof prefix !== 'string' || !/^[a-zA-Z_:]?[a-zA-Z0-9_:]*$/.test(prefix)) {
			throw new InvalidOptionError(
				'prefix',
				`\`prefix\` must be a valid Prometheus metric name prefix, got ${describeValue(prefix)}`,
			);
		}
		assertBuckets(options.durationBuckets, 'durationBuckets');
		assertBuckets(options.latenessBuckets, 'latenessBuckets');
		this.#controller = controller;
		const registry = options.registry ?? globalRegistry;
		this.registry = registry;
		const registers = [registry];
		const name = (suffix: string) => {
			this.#names.push(prefix + suffix);
			return prefix + suffix;
		};
		const status = () => controller.status();

		new Counter({
			name: name('iterations_total'),
			help: 'Finished attempts of each loop body, by outcome (success or failure).',
			labelNames: ['loop', 'outcome'] as const,
			registers,
			collect() {
				this.reset();
				for (const s of status()) {
					this.inc({ loop: s.name, outcome: 'success' }, s.successes);
					this.inc({ loop: s.name, outcome: 'failure' }, s.failures);
				}
			},
		});
		for (const counter of STATUS_COUNTERS) {
			new Counter({
				name: name(counter.name),
				help: counter.help,
				labelNames: ['loop'] as const,
				registers,
				collect() {
					this.reset();
					for (const s of status()) this.inc({ loop: s.name }, counter.value(s));
				},
			});
		}
		this.#duration = new LoopHistogram({
			name: name('iteration_duration_seconds'),
			help: 'How long each attempt of a loop body ran, by outcome.',
			buckets: options.durationBuckets ?? DEFAULT_LOOP_METRICS_OPTIONS.durationBuckets,
			registry,
		});
		this.#lateness = new LoopHistogram({
			name: name('iteration_lateness_seconds'),
			help: 'Start minus target of each first attempt (retries left out): how late loops run.',
			buckets: options.latenessBuckets ?? DEFAULT_LOOP_METRICS_OPTIONS.latenessBuckets,
			registry,
		});
		new Gauge({
			name: name('loop_state'),
			help: 'The state each loop is in: 1 for its current state, 0 for the others.',
			labelNames: ['loop', 'state'] as const,
			registers,
			collect() {
				this.reset();
				for (const s of status())
					for (const state of STATES) this.set({ loop: s.name, state }, s.state === state ? 1 : 0);
			},
		});
		new Gauge({
			name: name('pool_threads'),
			help: "Worker threads alive in the controller's shared pool (0 before a worker loop creates it).",
			registers,
			collect() {
				this.set(controller.activePool?.threads ?? 0);
			},
		});
		new Gauge({
			name: name('pool_queue_size'),
			help: "Iterations waiting for a free worker in the controller's shared pool.",
			registers,
			collect() {
				this.set(controller.activePool?.queueSize ?? 0);
			},
		});

		this.#listeners = {
			iterationStarted: (loop, info) => {
				if (!info.retry) this.#lateness.observe(this.#seriesOf(loop).lateness, info.latenessMs / 1000);
			},
			iterationCompleted: (loop, info) => this.#duration.observe(this.#seriesOf(loop).success, info.durationMs / 1000),
			iterationFailed: (loop, info) => this.#duration.observe(this.#seriesOf(loop).failure, info.durationMs / 1000),
		};
		for (const [event, listener] of Object.entries(this.#listeners))
			controller.on(event as 'iterationStarted', listener as Listener<'iterationStarted'>);
	}

	#seriesOf(loop: AnyLoop) {
		let series = this.#series.get(loop);
		if (!series) {
			series = {
				lateness: this.#lateness.series({ loop: loop.name }),
				success: this.#duration.series({ loop: loop.name, outcome: 'success' }),
				failure: this.#duration.series({ loop: loop.name, outcome: 'failure' }),
			};
			this.#series.set(loop, series);
		}
		return series;
	}

	/** Stops observing the controller and removes the metrics from the registry. */
	close(): void {
		for (const [event, listener] of Object.entries(this.#listeners))
			this.#controller.off(event as 'iterationStarted', listener as Listener<'iterationStarted'>);
		for (const name of this.#names.splice(0)) this.registry.removeSingleMetric(name);
	}
}
