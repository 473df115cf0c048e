/**
 * `discord-tasks/prometheus`: Prometheus metrics of a LoopController's loops, through prom-client (an optional peer
 * dependency: `npm install prom-client`).
 */
export type { LoopMetricsOptions } from './prometheus/loop-metrics.js';
export {
	DEFAULT_DURATION_BUCKETS,
	DEFAULT_LATENESS_BUCKETS,
	DEFAULT_LOOP_METRICS_OPTIONS,
	LoopMetrics,
} from './prometheus/loop-metrics.js';
