import { describe, expect, test } from 'vitest';
import { DiscordAccessError, ErrorCode, InvalidOptionError } from '../../../src/index.js';
import { CompiledAllowlist, checkRestMethod, checkRoute } from '../../../src/main/discord-allowlist.js';

const A = '1100000000000000001';
const B = '1100000000000000002';

describe('checkRoute: the route checked is the path sent', () => {
	test.each([
		['/channels/1/../../guilds/2/bans', 'a dot segment'],
		['/channels/1/%2e%2e/%2E%2E/guilds/2/bans', 'an encoded dot segment'],
		['/channels/1/./messages', 'a single dot segment'],
		['/channels//messages', 'an empty segment'],
		['/channels/1/', 'a trailing empty segment'],
		['/channels/1%2Fmessages', 'an encoded slash'],
		['/channels/1%5Cmessages', 'an encoded backslash'],
		['channels/1/messages', 'no leading slash'],
		[`/guilds/${A}#/members`, "a '#' that would cut the path to /guilds/A"],
		[`/channels/${B}#/messages/1`, "a '#' that would turn a message delete into a channel delete"],
		['/channels/1/messages?limit=5', "a '?' (queries go in options.query)"],
		['/channels/1/.\t./guilds', 'a TAB inside a dot segment, dropped by the URL parser'],
		['/channels/1/.\n./guilds', 'a LF inside a dot segment'],
		['/channels/1/.\r./guilds', 'a CR inside a dot segment'],
		['/channels/1/%0a', 'an encoded control character'],
		['/channels/1\\..\\guilds', 'a backslash, a separator to the WHATWG parser'],
		['/channels/1/ messages', 'a space'],
		['/channels/%zz', 'broken percent-encoding'],
		[`/${'a'.repeat(1100)}`, 'a route longer than the limit'],
		['/%63hannels/1/messages', "an encoded letter: the server reads '/channels/1'"],
		[`/channels/%31${B.slice(1)}/messages`, 'an encoded digit in a channel id'],
		['/channels/1/%7Emessages', "an encoded '~'"],
		[`/channels;/${B}/messages`, "a ';' path parameter, which a proxy may strip to /channels/B"],
		[`/channels/${A}/messages/..;/..;/${B}`, "'..;' segments, dot segments to a server that strips parameters"],
		[`/channels/${A}/%3B/messages`, "an encoded ';'"],
		['/channels/1/%252e%252e/guilds', 'a double-encoded dot segment, for a proxy that decodes twice'],
	])('refuses %j (%s)', (route) => {
		expect(() => checkRoute(route)).toThrow(DiscordAccessError);
		try {
			checkRoute(route);
		} catch (error) {
			expect((error as DiscordAccessError).code).toBe(ErrorCode.DiscordAccessDenied);
			expect((error as Error).message).toMatch(/A REST route must be a plain path/);
		}
	});

	test.each([[42], [null], [undefined], [{ toString: () => '/guilds/1' }]])('refuses the non-string %j', (route) => {
		expect(() => checkRoute(route)).toThrow(/it is not a string/);
	});

	test.each([
		['/channels/123/messages'],
		['/guilds/1/members/2'],
		['/channels/1/messages/2/reactions/%F0%9F%91%8D/@me'],
		['/channels/1/messages/2/reactions/name:123/@me'],
		['/users/@me'],
	])('returns the plain route %s unchanged', (route) => {
		expect(checkRoute(route)).toBe(route);
	});
});

describe('checkRestMethod', () => {
	test.each([['get'], ['post'], ['put'], ['patch'], ['delete']])('accepts %s', (method) => {
		expect(checkRestMethod(method)).toBe(method);
	});
	test.each([['setAgent'], ['constructor'], ['__proto__'], ['request'], ['GET'], [1]])(
		'refuses %j: a method name is never looked up on the client',
		(method) => {
			expect(() => checkRestMethod(method)).toThrow(DiscordAccessError);
		},
	);
});

describe('CompiledAllowlist: validation of the discord option', () => {
	test.each([
		[{ chanels: [A] }, 'discord.chanels', /Unknown discord option `chanels`: expected one of channels, routes/],
		['A', 'discord', /`discord` must be an object .*got 'A' \(string\)/],
		[[A], 'discord', /`discord` must be an object/],
		[
			{ channels: A },
			'discord.channels',
			/`discord.channels` must be an array of channel ids or '\*', got '1100000000000000001' \(string\)/,
		],
		[{ channels: ['general'] }, 'discord.channels[0]', /must be a channel id .*got 'general'/],
		[{ channels: [123] }, 'discord.channels[0]', /must be a channel id .*got 123 \(number\)/],
		[{ routes: 'GET /guilds/:id' }, 'discord.routes', /must be an array of route patterns/],
		[{ routes: ['FETCH /guilds/:id'] }, 'discord.routes[0]', /unknown method 'FETCH'/],
		[{ routes: ['GET guilds'] }, 'discord.routes[0]', /a path starting with '\/'/],
		[{ routes: ['GET /channels/*/messages'] }, 'discord.routes[0]', /'\*' stands alone as the last segment/],
		[{ routes: ['GET /channels/../guilds'] }, 'discord.routes[0]', /dot segments never match/],
	])('refuses %j, naming %s', (allowlist, option, message) => {
		const attempt = () => new CompiledAllowlist(allowlist);
		expect(attempt).toThrow(InvalidOptionError);
		expect(attempt).toThrow(message);
		try {
			attempt();
		} catch (error) {
			expect((error as InvalidOptionError).option).toBe(option);
		}
	});

	test('channels match whole ids, never substrings', () => {
		const allowlist = new CompiledAllowlist({ channels: [A] });
		expect(allowlist.allowsChannel(A)).toBe(true);
		expect(allowlist.allowsChannel('1')).toBe(false);
		expect(allowlist.allowsChannel(`${A}0`)).toBe(false);
	});

	test('defaults: any channel, no REST route', () => {
		const allowlist = new CompiledAllowlist(undefined);
		expect(allowlist.allowsChannel(B)).toBe(true);
		expect(allowlist.allowsRoute('get', '/guilds/1')).toBe(false);
	});
});

describe('CompiledAllowlist: matching', () => {
	test('patterns match one segment per :param and one or more for a final *', () => {
		const allowlist = new CompiledAllowlist({ routes: ['GET /channels/:id/messages', 'POST /guilds/1/*'] });
		expect(allowlist.allowsRoute('get', '/channels/123/messages')).toBe(true);
		expect(allowlist.allowsRoute('post', '/channels/123/messages')).toBe(false);
		expect(allowlist.allowsRoute('get', '/channels/123/456/messages')).toBe(false);
		expect(allowlist.allowsRoute('post', '/guilds/1/roles/2')).toBe(true);
		expect(allowlist.allowsRoute('post', '/guilds/1')).toBe(false);
	});

	test('a pattern without a method matches every method', () => {
		const allowlist = new CompiledAllowlist({ routes: ['/guilds/:id'] });
		expect(allowlist.allowsRoute('delete', '/guilds/1')).toBe(true);
	});

	test("a route under /channels/{id} also needs the channel in `channels`, even with routes: '*'", () => {
		const allowlist = new CompiledAllowlist({ channels: [A], routes: '*' });
		expect(allowlist.allowsRoute('delete', `/channels/${A}/messages/1`)).toBe(true);
		expect(allowlist.allowsRoute('delete', `/channels/${B}/messages/1`)).toBe(false);
		expect(allowlist.allowsRoute('delete', `/Channels/${B}`)).toBe(false);
		expect(allowlist.allowsRoute('get', '/guilds/1')).toBe(true);
	});
});
