import { afterEach, describe, expect, test, vi } from 'vitest';
import type { ClusterEngine, ClusterMember, ClusterSnapshot } from '../../../src/main/cluster/cluster-engine.js';
import { ClusterLoop, scheduleToJson } from '../../../src/main/cluster/cluster-loop.js';
import { SNAPSHOT_FIELDS } from '../../../src/main/cluster/cluster-scripts.js';
import { createLoop } from '../../../src/main/create-loop.js';
import { resolveSchedule } from '../../../src/main/schedule.js';

// ClusterLoop against a fake engine: what it asks the scripts when its mirror of the loop is behind Redis. The
// scripts themselves, and real processes, are the integration suite's (cluster-*.test.ts).

const snapshot = (fields: Partial<Record<(typeof SNAPSHOT_FIELDS)[number], string>>): ClusterSnapshot =>
	Object.fromEntries(SNAPSHOT_FIELDS.map((field) => [field, fields[field] ?? null])) as ClusterSnapshot;

/**
 * An engine whose Redis holds `stored` while the loop's mirror (what it was declared with, and what its control
 * messages said) holds `mirrored`. `answer` plays the scripts.
 */
function fakeEngine(
	mirrored: ClusterSnapshot,
	stored: ClusterSnapshot,
	answer: (script: string, args: readonly (string | number)[]) => unknown[],
) {
	const runs: [string, readonly (string | number)[]][] = [];
	const engine = {
		processId: 'p1',
		alivePrefix: 'bot:alive:',
		queueFor: () => 'loops',
		member: undefined as ClusterMember | undefined,
		add(member: ClusterMember) {
			engine.member = member;
			member.declared(mirrored, 'same', member.definition().schedule);
			return Promise.resolve();
		},
		snapshot: async () => stored,
		run: async (script: string, _name: string, args: readonly (string | number)[]) => {
			runs.push([script, args]);
			return answer(script, args);
		},
		addTick: vi.fn(async () => {}),
		removeTick: vi.fn(async () => {}),
	};
	return { engine, runs };
}

function clusterLoop(engine: object) {
	return createLoop({ name: 'beat', seconds: 60 }, () => {}, {
		construct: (parts) => new ClusterLoop(parts, engine as unknown as ClusterEngine, {}),
	});
}

afterEach(() => {
	vi.restoreAllMocks();
});

describe('ClusterLoop#changeInterval (against a fake engine)', () => {
	test('I3 moves the tick Redis holds, anchored on its last target, when this process still sees the body running', async () => {
		// The mirror still shows tick 1 running; in Redis it has ended and tick 2 (due 60 s after it) is pending.
		const { engine, runs } = fakeEngine(
			snapshot({ state: 'running', phase: 'running', gen: '1', job: 'beat/1/1', last: '1000', queue: 'loops' }),
			snapshot({ state: 'running', phase: 'waiting', gen: '1', job: 'beat/1/2', last: '1000', queue: 'loops' }),
			(script, args) => {
				if (script !== 'reschedule') return [];
				return args[1] === 'beat/1/2' && args[3] !== '' ? ['moved', 'beat/1/3'] : ['again'];
			},
		);
		const loop = clusterLoop(engine);

		loop.changeInterval({ seconds: 0.2 });

		await vi.waitFor(() => expect(engine.addTick).toHaveBeenCalled());
		expect(runs.filter(([script]) => script === 'reschedule')).toHaveLength(1);
		expect(engine.removeTick).toHaveBeenCalledWith('loops', 'beat/1/2');
		expect(engine.addTick).toHaveBeenCalledWith('loops', 'beat/1/3', { n: 'beat', g: 1, t: 1200 }, 1200);
	});

	test('reads the loop again when the script says it moved on between the read and the call', async () => {
		const stored = [
			snapshot({ state: 'running', phase: 'waiting', gen: '1', job: 'beat/1/2', last: '1000', queue: 'loops' }),
			snapshot({ state: 'running', phase: 'waiting', gen: '1', job: 'beat/1/3', last: '61000', queue: 'loops' }),
		];
		const { engine, runs } = fakeEngine(
			snapshot({ state: 'running', phase: 'waiting', gen: '1', job: 'beat/1/2', last: '1000', queue: 'loops' }),
			stored[0] as ClusterSnapshot,
			(script, args) => {
				if (script !== 'reschedule') return [];
				return args[1] === 'beat/1/3' ? ['moved', 'beat/1/4'] : ['again'];
			},
		);
		engine.snapshot = vi.fn(async () => stored.shift() ?? snapshot({}));
		const loop = clusterLoop(engine);

		loop.changeInterval({ seconds: 0.2 });

		await vi.waitFor(() => expect(engine.addTick).toHaveBeenCalled());
		expect(runs.filter(([script]) => script === 'reschedule').map(([, args]) => args[1])).toEqual([
			'beat/1/2',
			'beat/1/3',
		]);
		expect(engine.removeTick).toHaveBeenCalledExactlyOnceWith('loops', 'beat/1/3');
		expect(engine.addTick).toHaveBeenCalledWith('loops', 'beat/1/4', { n: 'beat', g: 1, t: 61200 }, 61200);
	});
});

describe('ClusterLoop ticks (against a fake engine)', () => {
	test('I3 a tick that ends after another process changed the interval computes its successor on the new one', async () => {
		// As another process stores it: scheduleToJson of the resolved options.
		const newSchedule = scheduleToJson(resolveSchedule({ seconds: 0.2 }));
		const ends: (string | number)[][] = [];
		const { engine } = fakeEngine(
			snapshot({ state: 'running', phase: 'waiting', gen: '1', job: 'beat/1/1', last: '', queue: 'loops' }),
			snapshot({}),
			(script, args) => {
				if (script === 'begin') return ['run', 0, '[]'];
				if (script !== 'end') return [];
				ends.push([...args]);
				// The schedule this process computed on is not the stored one until it has adopted the new interval.
				return args[5] === newSchedule ? ['next', 1, 'beat/1/2'] : ['schedule', newSchedule];
			},
		);
		const loop = clusterLoop(engine);
		await vi.waitFor(() => expect(engine.member).toBeDefined());
		// The tick of 1000 ends at 1100: its successor is due at 1200 on the new interval, at 61000 on the old one.
		vi.useFakeTimers({ now: 1100, toFake: ['Date'] });

		try {
			await engine.member?.tick('beat/1/1', { n: 'beat', g: 1, t: 1000 });
		} finally {
			vi.useRealTimers();
		}

		expect(ends).toHaveLength(2);
		expect(loop.seconds).toBe(0.2);
		expect(engine.addTick).toHaveBeenCalledExactlyOnceWith('loops', 'beat/1/2', { n: 'beat', g: 1, t: 1200 }, 1200);
	});
});
