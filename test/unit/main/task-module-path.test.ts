import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { ErrorCode, loop, TaskModuleError } from '../../../src/index.js';
import { invalidOption } from '../../helpers/invalid-option.js';

// CommonJS has no import.meta.url: a task file is named by its absolute path there (path.join(__dirname, ...)).
const absolute = fileURLToPath(new URL('../../fixtures/commonjs/tasks/echo.cjs', import.meta.url));

describe('loop() with a task module named by a path', () => {
	test('takes an absolute path, and names the loop after the file', () => {
		expect(loop({ minutes: 5 }, absolute).name).toBe('echo');
	});

	test('refuses a relative path, with the CommonJS way in the message', () => {
		const error = invalidOption(() => loop({ minutes: 5 }, './tasks/echo.cjs'));
		expect(error.option).toBe('task');
		expect(error.message).toContain("path.join(__dirname, 'task.js')");
	});

	test('reports an absolute path that does not exist at loop()', () => {
		expect(() => loop({ minutes: 5 }, `${absolute}.missing`)).toThrow(
			expect.objectContaining({ code: ErrorCode.TaskModuleNotFound }),
		);
		expect(() => loop({ minutes: 5 }, `${absolute}.missing`)).toThrow(TaskModuleError);
	});
});
