// Percentiles and summaries. Samples go in as plain arrays or typed arrays; nothing here allocates per sample,
// so a benchmark can keep its samples in a preallocated Float64Array while it measures.

/** The p-th percentile (0–100) of an ascending array, by linear interpolation between the closest ranks. */
export function percentile(sorted, p) {
	if (sorted.length === 0) return Number.NaN;
	const rank = (p / 100) * (sorted.length - 1);
	const low = Math.floor(rank);
	const high = Math.ceil(rank);
	return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/** An ascending Float64Array copy of `values` (the first `length` of them). */
export function sortedCopy(values, length = values.length) {
	const sorted = Float64Array.from(values.subarray ? values.subarray(0, length) : values.slice(0, length));
	return sorted.sort();
}

/** The usual figures of one sample set: count, median, p99, mean, min, max. */
export function summarize(values, length = values.length) {
	const sorted = sortedCopy(values, length);
	let sum = 0;
	for (const value of sorted) sum += value;
	return {
		n: sorted.length,
		p50: percentile(sorted, 50),
		p99: percentile(sorted, 99),
		mean: sorted.length ? sum / sorted.length : Number.NaN,
		min: sorted.length ? sorted[0] : Number.NaN,
		max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
	};
}

/** How one figure varied across process runs: the median run, and the range. */
export function spread(values) {
	const finite = values.filter((value) => Number.isFinite(value));
	if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 };
	const sorted = Float64Array.from(finite).sort();
	return { median: percentile(sorted, 50), min: sorted[0], max: sorted[sorted.length - 1], runs: finite.length };
}
