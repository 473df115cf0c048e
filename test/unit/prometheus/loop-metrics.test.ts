import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { InvalidOptionError, LoopController } from '../../../src/index.js';
import { LoopMetrics } from '../../../src/prometheus-api.js';
import { useControllerTestTime } from '../../helpers/controllers.js';
import { advance, delay, exactClock } from '../../helpers/fake-time.js';
import { connectionReset } from '../../helpers/loops.js';
import { recordingLogger } from '../../helpers/recording-logger.js';

const track = useControllerTestTime();

/** The scrape's sample lines (no HELP or TYPE), for exact matches. */
async function samples(registry: Registry): Promise<string[]> {
	return (await registry.metrics()).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

function setUp(): { tasks: LoopController; registry: Registry; metrics: LoopMetrics } {
	const tasks = track(new LoopController({ logger: recordingLogger() }));
	const registry = new Registry();
	return { tasks, registry, metrics: new LoopMetrics(tasks, { registry }) };
}

describe('LoopMetrics', () => {
	test('counts iterations by loop and outcome, and retries, in the text a scrape returns', async () => {
		const { tasks, registry } = setUp();
		let attempt = 0;
		tasks.loop({ name: 'flaky', seconds: 10, random: () => 0.5, clock: exactClock }, () => {
			attempt += 1;
			if (attempt === 2) throw connectionReset();
		});
		void tasks.start('flaky');
		await advance(11_000); // success, failure, retried success
		const lines = await samples(registry);
		expect(lines).toEqual(
			expect.arrayContaining([
				'discord_tasks_iterations_total{loop="flaky",outcome="success"} 2',
				'discord_tasks_iterations_total{loop="flaky",outcome="failure"} 1',
				'discord_tasks_retries_total{loop="flaky"} 1',
				'discord_tasks_iteration_duration_seconds_count{loop="flaky",outcome="success"} 2',
				'discord_tasks_iteration_duration_seconds_count{loop="flaky",outcome="failure"} 1',
				// Lateness of first attempts only: the retry's backoff delay is not lateness.
				'discord_tasks_iteration_lateness_seconds_count{loop="flaky"} 2',
				'discord_tasks_loop_state{loop="flaky",state="waiting"} 1',
				'discord_tasks_loop_state{loop="flaky",state="running"} 0',
			]),
		);
	});

	test('measures lateness, overruns and skipped targets in seconds', async () => {
		const { tasks, registry } = setUp();
		let first = true;
		tasks.loop({ name: 'slow', seconds: 0.1, clock: exactClock }, async () => {
			if (first) {
				first = false;
				await delay(300);
			}
		});
		void tasks.start('slow');
		await advance(450); // targets 0, 100 (started at 300: 0.2 s late), 400; 200 and 300 skipped
		const lines = await samples(registry);
		expect(lines).toEqual(
			expect.arrayContaining([
				'discord_tasks_overruns_total{loop="slow"} 1',
				'discord_tasks_skipped_iterations_total{loop="slow"} 2',
				'discord_tasks_iteration_lateness_seconds_bucket{le="0.1",loop="slow"} 2',
				'discord_tasks_iteration_lateness_seconds_bucket{le="0.25",loop="slow"} 3',
				'discord_tasks_iteration_lateness_seconds_sum{loop="slow"} 0.2',
				'discord_tasks_iteration_duration_seconds_sum{loop="slow",outcome="success"} 0.3',
			]),
		);
	});

	test('reports an empty pool as 0 threads and 0 queued, without creating it', async () => {
		const { tasks, registry } = setUp();
		const lines = await samples(registry);
		expect(lines).toEqual(expect.arrayContaining(['discord_tasks_pool_threads 0', 'discord_tasks_pool_queue_size 0']));
		expect(tasks.activePool).toBeUndefined();
	});

	test('follows prom-client conventions: HELP and TYPE for each metric, _total counters, _seconds histograms', async () => {
		const { registry } = setUp();
		const text = await registry.metrics();
		const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => `${name} ${type}`);
		expect(types).toEqual([
			'discord_tasks_iterations_total counter',
			'discord_tasks_retries_total counter',
			'discord_tasks_skipped_iterations_total counter',
			'discord_tasks_overruns_total counter',
			'discord_tasks_worker_crashes_total counter',
			'discord_tasks_worker_timeouts_total counter',
			'discord_tasks_iteration_duration_seconds histogram',
			'discord_tasks_iteration_lateness_seconds histogram',
			'discord_tasks_loop_state gauge',
			'discord_tasks_pool_threads gauge',
			'discord_tasks_pool_queue_size gauge',
		]);
		expect(text.match(/^# HELP /gm)).toHaveLength(types.length);
	});

	test('close() removes the metrics and stops observing', async () => {
		const { tasks, registry, metrics } = setUp();
		tasks.loop({ name: 'ticker', seconds: 1, clock: exactClock }, () => {});
		metrics.close();
		void tasks.start('ticker');
		await advance(10);
		expect(await registry.metrics()).toBe('\n');
		// The same names can be registered again.
		new LoopMetrics(tasks, { registry, prefix: 'discord_tasks_' });
		expect(await samples(registry)).toContain('discord_tasks_iterations_total{loop="ticker",outcome="success"} 1');
	});

	test('refuses a bad prefix or buckets, naming the option', () => {
		const tasks = track(new LoopController({ logger: recordingLogger() }));
		expect(() => new LoopMetrics(tasks, { registry: new Registry(), prefix: 'discord-tasks' })).toThrow(
			new InvalidOptionError(
				'prefix',
				"`prefix` must be a valid Prometheus metric name prefix, got 'discord-tasks' (string)",
			),
		);
		expect(() => new LoopMetrics(tasks, { registry: new Registry(), latenessBuckets: [] })).toThrow(InvalidOptionError);
	});
});
