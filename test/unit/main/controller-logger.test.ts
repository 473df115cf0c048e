import { Console } from 'node:console';
import { PassThrough, Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, test, vi } from 'vitest';
import winston from 'winston';
import { type ControllerLogger, InvalidOptionError, LoopController } from '../../../src/index.js';
import { useControllerTestTime } from '../../helpers/controllers.js';
import { advance, exactClock, flush, T0 } from '../../helpers/fake-time.js';
import { connectionReset } from '../../helpers/loops.js';
import { recordingLogger } from '../../helpers/recording-logger.js';

const track = useControllerTestTime();

/** A stream that keeps every line written to it. */
function lines(): { readonly stream: Writable; readonly lines: string[] } {
	const written: string[] = [];
	const stream = new Writable({
		write(chunk: Buffer, _encoding, callback) {
			written.push(...chunk.toString().split('\n').filter(Boolean));
			callback();
		},
	});
	return { stream, lines: written };
}

/** A controller with one 1 s loop whose second attempt fails with a retryable error, started and run for 11 s. */
async function runFlakyLoop(logger: ControllerLogger): Promise<LoopController> {
	const tasks = new LoopController({ logger });
	track(tasks);
	let attempt = 0;
	tasks.loop({ name: 'flaky', seconds: 10, random: () => 0.5, clock: exactClock }, () => {
		attempt += 1;
		if (attempt === 2) throw connectionReset();
	});
	void tasks.start('flaky');
	await advance(11_000);
	return tasks;
}

describe('LoopController logger', () => {
	test('pino gets (fields, message): loop, iteration, target, lateness and the error under err', async () => {
		const out = lines();
		await runFlakyLoop(pino({ level: 'debug', base: null, timestamp: false }, out.stream));
		const records = out.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
		expect(records).toContainEqual({ level: 30, loop: 'flaky', msg: "Loop 'flaky' started" });
		expect(records).toContainEqual({
			level: 20,
			loop: 'flaky',
			iteration: 1,
			target: new Date(T0 + 10_000).toISOString(),
			latenessMs: 0,
			retry: false,
			msg: "Loop 'flaky' iteration 1 started 0 ms late",
		});
		const retry = records.find((record) => record['level'] === 40);
		expect(retry).toMatchObject({
			loop: 'flaky',
			iteration: 1,
			msg: "Handling exception in loop 'flaky'. Retrying in 1.00s",
			err: { type: 'Error', message: 'read ECONNRESET', code: 'ECONNRESET' },
		});
	});

	test('a disabled pino level is not written, and its fields are not built', async () => {
		const out = lines();
		const logger = pino({ level: 'warn', base: null, timestamp: false }, out.stream);
		const enabled = vi.spyOn(logger, 'isLevelEnabled');
		await runFlakyLoop(logger);
		expect(out.lines.map((line) => (JSON.parse(line) as { level: number }).level)).toEqual([40]);
		expect(enabled).toHaveBeenCalledWith('debug');
	});

	test('winston gets (message, fields): the fields become the record', async () => {
		const out = lines();
		const logger = winston.createLogger({
			level: 'info',
			format: winston.format.json(),
			transports: [new winston.transports.Stream({ stream: out.stream })],
		});
		await runFlakyLoop(logger);
		const records = out.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
		expect(records).toContainEqual({ level: 'info', loop: 'flaky', message: "Loop 'flaky' started" });
		expect(records.find((record) => record['level'] === 'warn')).toMatchObject({
			loop: 'flaky',
			iteration: 1,
			message: "Handling exception in loop 'flaky'. Retrying in 1.00s",
		});
		expect(records.some((record) => record['level'] === 'debug')).toBe(false);
	});

	test('console gets (message, fields) and prints both', async () => {
		const stream = new PassThrough();
		let text = '';
		stream.on('data', (chunk: Buffer) => {
			text += chunk.toString();
		});
		await runFlakyLoop(new Console({ stdout: stream, stderr: stream }));
		expect(text).toMatch(/Loop 'flaky' iteration 1 started 0 ms late \{\s+loop: 'flaky',\s+iteration: 1,/);
		expect(text).toMatch(
			/Handling exception in loop 'flaky'\. Retrying in 1\.00s \{\s+loop: 'flaky',\s+iteration: 1,\s+err: Error: read ECONNRESET/,
		);
	});

	test('without a logger, warnings go to stderr as a loop writes them, and debug and info are off', async () => {
		const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
		try {
			await runFlakyLoop(undefined as unknown as ControllerLogger);
			const written = write.mock.calls.map(([chunk]) => String(chunk));
			expect(written).toHaveLength(1);
			expect(written[0]).toMatch(
				/^\[discord-tasks\] warn: Handling exception in loop 'flaky'\. Retrying in 1\.00s\nError: read ECONNRESET/,
			);
		} finally {
			write.mockRestore();
		}
	});

	test("a loop's own logger wins over the controller's", async () => {
		const controllerLogger = recordingLogger();
		const own = recordingLogger();
		const tasks = new LoopController({ logger: controllerLogger });
		track(tasks);
		tasks.loop({ name: 'own', seconds: 1, logger: own, random: () => 0.5 }, () => {
			throw connectionReset();
		});
		void tasks.start('own');
		await flush();
		expect(own.warn).toHaveBeenCalledOnce();
		expect(controllerLogger.warn).not.toHaveBeenCalled();
	});

	test('an overrun is a warning with the duration and the interval it outlasted', async () => {
		const logger = recordingLogger();
		const tasks = new LoopController({ logger });
		track(tasks);
		tasks.loop(
			{ name: 'slow', seconds: 0.1, clock: exactClock },
			() => new Promise((resolve) => setTimeout(resolve, 250)),
		);
		void tasks.start('slow');
		await advance(260);
		expect(logger.warn).toHaveBeenCalledWith(
			"Loop 'slow' iteration 0 ran 250 ms, past its next target 100 ms after it started",
			{
				loop: 'slow',
				iteration: 0,
				durationMs: 250,
				intervalMs: 100,
			},
		);
	});

	test('a logger that throws does not break the loop', async () => {
		const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
		try {
			const throwing = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
			throwing.debug = () => {
				throw new Error('logger down');
			};
			const tasks = await runFlakyLoop(throwing);
			expect(tasks.status()[0]).toMatchObject({ successes: 2, failures: 1 });
			expect(String(write.mock.calls[0]?.[0])).toContain('The logger threw while writing');
		} finally {
			write.mockRestore();
		}
	});

	test('refuses a logger without warn and error, naming the option', () => {
		expect(() => new LoopController({ logger: { warn: () => {} } as unknown as ControllerLogger })).toThrow(
			new InvalidOptionError(
				'logger',
				'`logger` must be a logger (pino, winston, console) with a `error` method, got an object',
			),
		);
	});
});
