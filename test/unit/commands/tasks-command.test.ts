import { PermissionFlagsBits } from 'discord.js';
import { describe, expect, test } from 'vitest';
import { TasksCommand } from '../../../src/commands-api.js';
import { InvalidOptionError, LoopController } from '../../../src/index.js';

describe('TasksCommand#toJSON', () => {
	test('is a guild-only command with Manage Server as its default permission and a loop option per subcommand', () => {
		const json = new TasksCommand(new LoopController()).toJSON();
		expect(json).toMatchObject({ name: 'tasks', default_member_permissions: '32', contexts: [0] });
		const subcommands = (json.options ?? []) as {
			name: string;
			options?: { name: string; autocomplete?: boolean }[];
		}[];
		expect(subcommands.map((sub) => sub.name)).toEqual(['list', 'status', 'start', 'stop', 'cancel', 'restart']);
		for (const sub of subcommands.slice(1)) {
			expect(sub.options).toMatchObject([{ name: 'loop', required: true, autocomplete: true }]);
		}
	});

	test('takes another name and other permissions', () => {
		const json = new TasksCommand(new LoopController(), {
			name: 'loops',
			permissions: PermissionFlagsBits.Administrator,
		}).toJSON();
		expect(json).toMatchObject({ name: 'loops', default_member_permissions: '8' });
	});
});

describe('new TasksCommand', () => {
	test('refuses a name Discord would refuse, naming the option and the value', () => {
		expect(() => new TasksCommand(new LoopController(), { name: 'My Tasks' })).toThrow(
			new InvalidOptionError(
				'name',
				"`name` must be a lower-case command name of 1 to 32 letters, digits, - or _, got 'My Tasks' (string)",
			),
		);
	});

	test('refuses permissions that are not a bitfield', () => {
		expect(() => new TasksCommand(new LoopController(), { permissions: 32 as unknown as bigint })).toThrow(
			new InvalidOptionError('permissions', '`permissions` must be a permission bitfield (bigint), got 32 (number)'),
		);
	});
});
