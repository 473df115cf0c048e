import type { Registry } from 'prom-client';

/** One series of a {@link LoopHistogram}: its labels and its counts, updated in place. */
export interface HistogramSeries {
	readonly labels: Readonly<Record<string, string>>;
	/** Observations per bucket (not cumulative), the last one for values above every bound (+Inf). */
	readonly counts: Float64Array;
	sum: number;
	count: number;
}

/** One sample line of a scrape, in the shape prom-client's registry formats. */
interface MetricValue {
	readonly labels: Readonly<Record<string, string | number>>;
	readonly value: number;
	readonly metricName: string;
}

/**
 * A Prometheus histogram observed on every loop firing, registered in a prom-client registry as prom-client's own
 * metrics are (`registerMetric`, and `get()` answering with the same shape as its `Histogram`).
 *
 * Why not prom-client's `Histogram`: its `observe()` allocates, validates and hashes the labels, and keys buckets
 * by the bound turned into a string, on every call. Measured on a busy loop benchmark (bench/observe.mjs), that
 * was several µs per firing; here an observation is a scan of the bounds and three additions, and the text is built
 * only when Prometheus scrapes.
 * @internal
 */
export class LoopHistogram {
	readonly name: string;
	readonly help: string;
	readonly type = 'histogram';
	/** How prom-client's cluster registry merges workers' values. */
	readonly aggregator = 'sum';
	readonly #bounds: Float64Array;
	readonly #series: HistogramSeries[] = [];

	constructor(options: { name: string; help: string; buckets: readonly number[]; registry: Registry }) {
		this.name = options.name;
		this.help = options.help;
		this.#bounds = Float64Array.from([...options.buckets].sort((a, b) => a - b));
		options.registry.registerMetric(this as never);
	}

	/** A new series with these labels, counted from zero. */
	series(labels: Readonly<Record<string, string>>): HistogramSeries {
		const series: HistogramSeries = { labels, counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
		this.#series.push(series);
		return series;
	}

	/** Adds one observation to a series. */
	observe(series: HistogramSeries, value: number): void {
		const bounds = this.#bounds;
		let bucket = 0;
		while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket += 1;
		series.counts[bucket] = (series.counts[bucket] as number) + 1;
		series.sum += value;
		series.count += 1;
	}

	/** What prom-client's registry reads at each scrape: cumulative buckets, `_sum` and `_count` per series. */
	async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
		const values: MetricValue[] = [];
		for (const series of this.#series) {
			let cumulative = 0;
			this.#bounds.forEach((bound, index) => {
				cumulative += series.counts[index] as number;
				values.push({ labels: { le: bound, ...series.labels }, value: cumulative, metricName: `${this.name}_bucket` });
			});
			values.push({ labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: `${this.name}_bucket` });
			values.push({ labels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
			values.push({ labels: series.labels, value: series.count, metricName: `${this.name}_count` });
		}
		return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
	}

	/** Forgets every observation (prom-client calls it from `registry.resetMetrics()`). */
	reset(): void {
		for (const series of this.#series) {
			series.counts.fill(0);
			series.sum = 0;
			series.count = 0;
		}
	}
}
