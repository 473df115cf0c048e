import { describe, expect, test } from 'vitest';
import { parseTaskKey, taskKey } from '../../../src/protocol/index.js';

describe('taskKey', () => {
	test.each([
		['file:///bot/tasks/scores.js', 'default'],
		['file:///bot/tasks/with%20space.js#fragment', 'named'],
		['file:///bot/tasks/a.js', 'an export: with #, spaces and 12:colons'],
		['file:///bot/tasks/a.js', ''],
	])('reads back %s and %s unchanged', (moduleUrl, exportName) => {
		expect(parseTaskKey(taskKey({ moduleUrl, exportName }))).toEqual({ moduleUrl, exportName });
	});

	test.each([undefined, 42, '', 'no-length', '99:file:///short.js', '-1:x', ':x'])('parseTaskKey refuses %j', (key) => {
		expect(parseTaskKey(key)).toBeUndefined();
	});
});
