import { describe, expect, test } from 'vitest';
import { type Clock, LATENESS_WINDOW, LoopController, type LoopStatus, systemClock } from '../../../src/index.js';
import { useControllerTestTime } from '../../helpers/controllers.js';
import { advance, delay, exactClock, flush, T0 } from '../../helpers/fake-time.js';
import { connectionReset } from '../../helpers/loops.js';
import { recordingLogger } from '../../helpers/recording-logger.js';

const track = useControllerTestTime();

function controller(): LoopController {
	return track(new LoopController({ logger: recordingLogger() }));
}

/** A clock whose sleeps wake `oversleep()` ms after they should: a timer delayed by a busy main thread. */
function lateClock(oversleep: () => number): Clock {
	return {
		now: () => Date.now(),
		sleep: (ms, signal) => (ms > 0 ? systemClock.sleep(ms + oversleep(), signal) : exactClock.sleep(ms, signal)),
	};
}

function statusOf(tasks: LoopController, name: string): LoopStatus {
	const found = tasks.status().find((s) => s.name === name);
	if (!found) throw new Error(`no status for ${name}`);
	return found;
}

describe('LoopController#status lateness', () => {
	test('reports start minus target in iterationStarted and as lastLatenessMs', async () => {
		const tasks = controller();
		const lateness: number[] = [];
		tasks.on('iterationStarted', (_loop, info) => lateness.push(info.latenessMs));
		const ticker = tasks.loop({ name: 'ticker', seconds: 1, clock: lateClock(() => 25) }, () => {});
		void ticker.start();
		await advance(2100);
		expect(lateness).toEqual([0, 25, 25]);
		expect(statusOf(tasks, 'ticker')).toMatchObject({ lastLatenessMs: 25, latenessP99Ms: 25, attempts: 3 });
	});

	test('latenessP99Ms is the 99th percentile of the recent window, and old lateness leaves the window', async () => {
		const tasks = controller();
		let late = 50;
		const ticker = tasks.loop({ name: 'ticker', seconds: 1, clock: lateClock(() => late) }, () => {});
		void ticker.start();
		await advance(10 * 1050 + 10); // the first attempt (on time) and 10 attempts 50 ms late
		expect(statusOf(tasks, 'ticker')).toMatchObject({ attempts: 11, lastLatenessMs: 50, latenessP99Ms: 50 });
		late = 0;
		await advance(LATENESS_WINDOW * 1000);
		expect(statusOf(tasks, 'ticker')).toMatchObject({ lastLatenessMs: 0, latenessP99Ms: 0 });
	});

	test('the p99 of 0..100 ms is 99 ms (nearest rank)', async () => {
		const tasks = controller();
		let next = 0;
		const ticker = tasks.loop({ name: 'ticker', seconds: 1, clock: lateClock(() => ++next) }, () => {});
		void ticker.start();
		await flush();
		for (let i = 1; i <= 100; i++) await advance(1001); // attempt i wakes at i * 1000 + i
		expect(statusOf(tasks, 'ticker')).toMatchObject({ attempts: 101, lastLatenessMs: 100, latenessP99Ms: 99 });
	});
});

describe('LoopController#status overruns and skipped targets', () => {
	test("with missedIterations 'skip', a 300 ms body on a 100 ms interval is one overrun and two skipped targets", async () => {
		const tasks = controller();
		const started: { iteration: number; latenessMs: number }[] = [];
		tasks.on('iterationStarted', (_loop, { iteration, latenessMs }) => started.push({ iteration, latenessMs }));
		let first = true;
		const slow = tasks.loop({ name: 'slow', seconds: 0.1, clock: exactClock }, async () => {
			if (first) {
				first = false;
				await delay(300);
			}
		});
		void slow.start();
		await advance(450);
		// Targets 0, 100, 400: the iteration of target 100 starts at 300 (200 ms late), 200 and 300 are dropped.
		expect(started).toEqual([
			{ iteration: 0, latenessMs: 0 },
			{ iteration: 1, latenessMs: 200 },
			{ iteration: 2, latenessMs: 0 },
		]);
		expect(statusOf(tasks, 'slow')).toMatchObject({ overruns: 1, skippedIterations: 2, lastLatenessMs: 0 });
	});

	test("with missedIterations 'catchUp', the same body skips nothing and the catch-up runs late", async () => {
		const tasks = controller();
		const lateness: number[] = [];
		tasks.on('iterationStarted', (_loop, info) => lateness.push(info.latenessMs));
		let first = true;
		const slow = tasks.loop(
			{ name: 'slow', seconds: 0.1, missedIterations: 'catchUp', clock: exactClock },
			async () => {
				if (first) {
					first = false;
					await delay(300);
				}
			},
		);
		void slow.start();
		await advance(350);
		expect(lateness).toEqual([0, 200, 100, 0]);
		expect(statusOf(tasks, 'slow')).toMatchObject({ overruns: 1, skippedIterations: 0 });
	});

	test('a body shorter than its interval is no overrun, and a back-to-back loop never overruns', async () => {
		const tasks = controller();
		const quick = tasks.loop({ name: 'quick', seconds: 1, clock: exactClock }, () => delay(999));
		const busy = tasks.loop({ name: 'busy', count: 5, clock: exactClock }, () => delay(10));
		void quick.start();
		void busy.start();
		await advance(3500);
		expect(statusOf(tasks, 'quick')).toMatchObject({ overruns: 0, skippedIterations: 0, successes: 3 });
		expect(statusOf(tasks, 'busy')).toMatchObject({ overruns: 0, successes: 5 });
	});
});

describe('LoopController#status counters', () => {
	test('attempts, successes, failures and retries count different things; the last error keeps its time', async () => {
		const tasks = controller();
		let attempt = 0;
		const flaky = tasks.loop({ name: 'flaky', seconds: 10, random: () => 0.5, clock: exactClock }, () => {
			attempt += 1;
			if (attempt === 2) throw connectionReset();
		});
		void flaky.start();
		await flush();
		expect(statusOf(tasks, 'flaky')).toMatchObject({
			attempts: 1,
			successes: 1,
			failures: 0,
			retries: 0,
			lastError: null,
		});
		await advance(10_000); // attempt 2 fails at T0 + 10 s, its retry runs 1 s later (random 0.5 of 2 s)
		const failed = statusOf(tasks, 'flaky');
		expect(failed).toMatchObject({ attempts: 2, successes: 1, failures: 1, retries: 0, consecutiveFailures: 1 });
		expect(failed.lastError).toEqual({ name: 'Error', message: 'read ECONNRESET', code: 'ECONNRESET' });
		expect(failed.lastErrorAt).toBe(new Date(T0 + 10_000).toISOString());
		await advance(1000);
		const recovered = statusOf(tasks, 'flaky');
		expect(recovered).toMatchObject({ attempts: 3, successes: 2, failures: 1, retries: 1, consecutiveFailures: 0 });
		expect(recovered.lastErrorAt).toBe(new Date(T0 + 10_000).toISOString());
		expect(recovered.lastSuccessAt).toBe(new Date(T0 + 11_000).toISOString());
		// The retry stands for a target 1 s in the past, on purpose: it is left out of the lateness figures.
		expect(recovered.lastLatenessMs).toBe(0);
	});

	test('the error that ends a run is the last error', async () => {
		const tasks = controller();
		const fatal = tasks.loop({ name: 'fatal', seconds: 1, onError: () => {} }, () => {
			throw new TypeError('bad input');
		});
		const run = fatal.start();
		await flush();
		await expect(run).rejects.toThrow('bad input');
		expect(statusOf(tasks, 'fatal')).toMatchObject({
			attempts: 1,
			failures: 1,
			successes: 0,
			lastError: { name: 'TypeError', message: 'bad input' },
			lastErrorAt: new Date(T0).toISOString(),
		});
	});
});

describe('LoopController#lastArgs', () => {
	test('returns the arguments of the last start() or restart() through the controller', async () => {
		const tasks = controller();
		tasks.loop({ name: 'greeter', seconds: 1 }, (_who: string) => {});
		expect(tasks.lastArgs('greeter')).toEqual([]);
		void tasks.start('greeter', 'ada');
		expect(tasks.lastArgs('greeter')).toEqual(['ada']);
		void tasks.restart('greeter', 'grace');
		await flush();
		expect(tasks.lastArgs('greeter')).toEqual(['grace']);
	});
});
