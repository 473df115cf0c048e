import {
	AttachmentBuilder,
	Client,
	DiscordAPIError,
	DiscordjsErrorCodes,
	Events,
	GatewayIntentBits,
	type Message,
	PermissionFlagsBits,
	Status,
	type TextChannel,
} from 'discord.js';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { WebSocket } from 'ws';
import {
	DEFAULT_FIXTURE_IDS,
	LoopbackGateway,
	type LoopbackGatewayOptions,
	type RestRequestRecord,
} from '../../src/testing/index.js';
import {
	createClient as createLoopbackClient,
	EVENT_TIMEOUT_MS,
	loginAndWaitReady,
	nextEvent,
	startGateway as startLoopbackGateway,
} from '../helpers/loopback-bot.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
	// Last in, first out: clients are destroyed before the gateway they talk to stops.
	for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const startGateway = (options: LoopbackGatewayOptions = {}) => startLoopbackGateway(LoopbackGateway, cleanups, options);
const createClient = (gateway: LoopbackGateway) => createLoopbackClient(gateway, cleanups);
const readyClient = (gateway: LoopbackGateway, token?: string) => loginAndWaitReady(createClient(gateway), token);

function defaultChannel(client: Client<true>, gateway: LoopbackGateway): TextChannel {
	const channel = client.channels.cache.get(gateway.channelId);
	if (channel === undefined || !channel.isTextBased() || channel.isDMBased() || channel.isThread()) {
		throw new Error('the fixture text channel is not cached');
	}
	return channel as TextChannel;
}

/** A bare socket for protocol cases discord.js never produces on purpose. Resolves once HELLO has arrived. */
async function rawSocket(gateway: LoopbackGateway, query = '?v=10&encoding=json'): Promise<WebSocket> {
	const socket = new WebSocket(`${gateway.address?.gatewayUrl}${query}`);
	cleanups.push(() => socket.terminate());
	await nextEvent(socket, 'message');
	return socket;
}

async function nextFrame(socket: WebSocket): Promise<{ op: number; d: unknown }> {
	const [data] = (await nextEvent(socket, 'message')) as [Buffer];
	return JSON.parse(data.toString()) as { op: number; d: unknown };
}

function statusesOf(requests: readonly RestRequestRecord[], method: string, route: string): number[] {
	return requests.filter((request) => request.method === method && request.route === route).map((r) => r.status);
}

describe('LoopbackGateway#start', () => {
	test('lets a discord.js client reach clientReady with the fixture guild, channel and members cached', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);

		const guild = client.guilds.cache.get(gateway.guildId);
		expect(guild?.name).toBe('Loopback Guild');
		expect(defaultChannel(client, gateway).name).toBe('general');
		expect(client.user.id).toBe(DEFAULT_FIXTURE_IDS.botUser);
		expect(client.application.id).toBe(DEFAULT_FIXTURE_IDS.botUser);
		expect(guild?.members.me?.permissions.has(PermissionFlagsBits.Administrator)).toBe(true);
		expect(guild?.members.cache.has(gateway.humanUserId)).toBe(true);
		expect(gateway.counters.identifies).toBe(1);
		expect(gateway.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['GET /gateway/bot']);
		expect(gateway.unhandled).toEqual([]);
	});

	test('rejects login with TokenInvalid when the client sends another token', async () => {
		const gateway = await startGateway({ token: 'right-token' });
		const client = createClient(gateway);

		await expect(client.login('wrong-token')).rejects.toMatchObject({ code: DiscordjsErrorCodes.TokenInvalid });
		expect(gateway.requests[0]?.status).toBe(401);
		expect(gateway.counters.connections).toBe(0);
	});

	test('accepts the configured token on REST and in IDENTIFY', async () => {
		const gateway = await startGateway({ token: 'right-token' });
		const client = await readyClient(gateway, 'right-token');

		await expect(client.user.fetch(true)).resolves.toMatchObject({ id: gateway.botUserId });
		expect(gateway.counters.identifies).toBe(1);
	});

	test('comes back on the same port after stop, so a client that cached the URL reconnects', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const { port } = gateway.address ?? { port: -1 };

		const identified = nextEvent(gateway, 'identify');
		await gateway.stop();
		await expect(gateway.start()).resolves.toMatchObject({ port });
		await identified;
		await nextEvent(client, Events.ShardReady);
		expect(gateway.counters.identifies).toBe(2);
	});
});

describe('LoopbackGateway#sentMessages', () => {
	test('records a channel.send round trip and echoes it as messageCreate', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const created = nextEvent(client, Events.MessageCreate);
		const recorded = nextEvent(gateway, 'message');

		const sent = await defaultChannel(client, gateway).send({ content: 'hello', embeds: [{ title: 'loop' }] });

		const [echoed] = (await created) as [Message];
		await recorded;
		expect(echoed.id).toBe(sent.id);
		expect(echoed.author.id).toBe(client.user.id);
		expect(echoed.guildId).toBe(gateway.guildId);
		expect(echoed.member?.id).toBe(client.user.id);
		expect(gateway.sentMessages).toHaveLength(1);
		expect(gateway.sentMessages[0]).toMatchObject({
			id: sent.id,
			channelId: gateway.channelId,
			guildId: gateway.guildId,
			content: 'hello',
			embeds: [{ title: 'loop' }],
		});
		expect(gateway.sentMessages[0]?.payload).toMatchObject({ content: 'hello' });
		expect(gateway.counters.messagesCreated).toBe(1);
	});

	test('records multipart uploads with their payload_json and files', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const file = new AttachmentBuilder(Buffer.from('report body'), { name: 'report.txt' });

		const sent = await defaultChannel(client, gateway).send({ content: 'see attached', files: [file] });

		const [record] = gateway.sentMessages;
		expect(record?.content).toBe('see attached');
		expect(record?.files.map((entry) => [entry.filename, entry.data.toString()])).toEqual([
			['report.txt', 'report body'],
		]);
		expect(sent.attachments.first()?.name).toBe('report.txt');
		const download = await fetch(sent.attachments.first()?.url ?? '');
		await expect(download.text()).resolves.toBe('report body');
		expect(gateway.unhandled).toEqual([]);
	});

	test('answers an empty message with DiscordAPIError 50006', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);

		await expect(defaultChannel(client, gateway).send({ content: '' })).rejects.toMatchObject({
			name: 'DiscordAPIError[50006]',
			code: 50006,
			status: 400,
		});
		expect(gateway.sentMessages).toEqual([]);
	});

	test('serves message history so the bot can fetch, edit and delete what it sent', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const channel = defaultChannel(client, gateway);
		const first = await channel.send('first');
		await channel.send('second');

		const history = await channel.messages.fetch({ limit: 10, cache: false });
		expect(history.map((message) => message.content)).toEqual(['second', 'first']);
		const edited = await first.edit('first, edited');
		expect(edited.editedTimestamp).not.toBeNull();
		await first.delete();
		await expect(channel.messages.fetch({ message: first.id, force: true })).rejects.toMatchObject({ code: 10008 });
		expect(gateway.unhandled).toEqual([]);
	});
});

describe('LoopbackGateway#injectMessage', () => {
	test('reaches a messageCreate handler as a guild message from the human member', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const created = nextEvent(client, Events.MessageCreate);

		const { id: injectedId } = gateway.injectMessage({ content: `<@${gateway.botUserId}> ping` });

		const [message] = (await created) as [Message];
		expect(message.id).toBe(injectedId);
		expect(message.content).toBe(`<@${gateway.botUserId}> ping`);
		expect(message.author.id).toBe(gateway.humanUserId);
		expect(message.author.bot).toBe(false);
		expect(message.member?.id).toBe(gateway.humanUserId);
		expect(message.mentions.has(client.user)).toBe(true);
		expect(gateway.sentMessages).toEqual([]);
	});

	test('throws naming the option for an unknown channel', async () => {
		const gateway = await startGateway();

		expect(() => gateway.injectMessage({ channelId: '42', content: 'hi' })).toThrow(/`options.channelId`.*'42'/);
	});
});

describe('LoopbackGateway heartbeats', () => {
	test('acknowledges heartbeats, so client.ws.ping is >= 0 after the first ACK', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const heartbeat = nextEvent(gateway, 'heartbeat');

		// The client answers op 1 at once instead of after up to one heartbeat interval.
		expect(gateway.requestHeartbeat()).toBe(1);

		const [event] = (await heartbeat) as [{ acked: boolean }];
		expect(event.acked).toBe(true);
		await vi.waitFor(() => expect(client.ws.ping).toBeGreaterThanOrEqual(0), { timeout: EVENT_TIMEOUT_MS });
		expect(gateway.counters.heartbeatAcks).toBeGreaterThanOrEqual(1);
	});
});

describe('LoopbackGateway#dropConnections', () => {
	test('makes the client RESUME, not IDENTIFY, and replays what it missed', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const resumed = nextEvent(client, Events.ShardResume);
		const created = nextEvent(client, Events.MessageCreate);

		expect(gateway.dropConnections()).toBe(1);
		// Dispatched while the socket is down: buffered in the session and replayed after RESUME.
		gateway.injectMessage({ content: 'while you were away' });

		const [, replayed] = await resumed;
		const [message] = (await created) as [Message];
		expect(message.content).toBe('while you were away');
		// discord.js counts RESUMED itself among the replayed events.
		expect(replayed).toBe(2);
		expect(gateway.counters).toMatchObject({ identifies: 1, resumes: 1, connections: 2 });
	});
});

describe('LoopbackGateway RESUME', () => {
	test('answers a RESUME of an unknown session with op 9 d:false', async () => {
		const gateway = await startGateway();
		const socket = await rawSocket(gateway);
		const resume = nextEvent(gateway, 'resume');

		socket.send(JSON.stringify({ op: 6, d: { token: 't', session_id: 'no-such-session', seq: 3 } }));

		await expect(nextFrame(socket)).resolves.toEqual({ op: 9, d: false, s: null, t: null });
		const [event] = (await resume) as [{ accepted: boolean }];
		expect(event.accepted).toBe(false);
	});
});

describe('LoopbackGateway protocol checks', () => {
	test('refuses another API version with 4012, so discord.js login rejects', async () => {
		const gateway = await startGateway();
		const client = new Client({
			intents: [GatewayIntentBits.Guilds],
			...gateway.clientOptions(),
			ws: { ...gateway.clientOptions().ws, version: 9 },
		});
		cleanups.push(() => client.destroy());

		await expect(client.login('loopback-test-token')).rejects.toThrow('Used an invalid API version');
		expect(gateway.counters.identifies).toBe(0);
	});

	test('closes a client that asks for zlib-stream with 4012 and a reason saying why', async () => {
		const gateway = await startGateway();
		const socket = new WebSocket(`${gateway.address?.gatewayUrl}?v=10&encoding=json&compress=zlib-stream`);
		cleanups.push(() => socket.terminate());

		const [code, reason] = (await nextEvent(socket, 'close')) as [number, Buffer];

		expect(code).toBe(4012);
		expect(reason.toString()).toMatch(/zlib-stream/);
	});
});

describe('LoopbackGateway#sendReconnect', () => {
	test('makes the client reconnect and RESUME', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const resumed = nextEvent(client, Events.ShardResume);

		expect(gateway.sendReconnect()).toBe(1);

		await resumed;
		expect(gateway.counters).toMatchObject({ identifies: 1, resumes: 1 });
	});
});

describe('LoopbackGateway#invalidateSession', () => {
	test('with resumable false makes the client IDENTIFY again and turn ready', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const identified = nextEvent(gateway, 'identify');
		const shardReady = nextEvent(client, Events.ShardReady);

		gateway.invalidateSession(false);

		await identified;
		await shardReady;
		expect(gateway.counters).toMatchObject({ identifies: 2, resumes: 0 });
	});

	test('with resumable true makes the client RESUME on the same socket', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const resumed = nextEvent(client, Events.ShardResume);

		gateway.invalidateSession(true);

		await resumed;
		expect(gateway.counters).toMatchObject({ identifies: 1, resumes: 1, connections: 1 });
	});
});

describe('LoopbackGateway#setZombie', () => {
	test('lets the client detect a zombie connection and RESUME', async () => {
		const gateway = await startGateway({ heartbeatIntervalMs: 250 });
		const client = await readyClient(gateway);
		const resumed = nextEvent(client, Events.ShardResume);
		const closed = nextEvent(gateway, 'close');

		gateway.setZombie(true);
		const [resume] = (await nextEvent(gateway, 'resume')) as [{ accepted: boolean }];
		gateway.setZombie(false);

		expect(resume.accepted).toBe(true);
		await resumed;
		const [close] = (await closed) as [{ code: number; initiatedBy: string }];
		// discord.js closes a zombie connection itself, with its "resuming" code.
		expect(close).toMatchObject({ code: 4200, initiatedBy: 'client' });
		expect(gateway.counters.identifies).toBe(1);
	});
});

describe('LoopbackGateway#closeConnections', () => {
	test('with 4000 makes the client RESUME', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const resumed = nextEvent(client, Events.ShardResume);

		expect(gateway.closeConnections(4000, 'test')).toBe(1);

		await resumed;
		expect(gateway.counters).toMatchObject({ identifies: 1, resumes: 1 });
	});

	test('with 4004 makes the client give up: shardDisconnect and no new connection', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const disconnected = nextEvent(client, Events.ShardDisconnect);

		gateway.closeConnections(4004);

		const [event] = (await disconnected) as [{ code: number }];
		expect(event.code).toBe(4004);
		expect(client.ws.shards.get(0)?.status).toBe(Status.Disconnected);
		// Absence can only be checked by waiting: longer than the 500 ms discord.js waits before reconnecting.
		await new Promise((resolve) => setTimeout(resolve, 700));
		expect(gateway.counters.connections).toBe(1);
		expect(gateway.openConnections).toBe(0);
	});

	test('throws naming the argument for a code WebSocket forbids', async () => {
		const gateway = await startGateway();

		expect(() => gateway.closeConnections(1006)).toThrow(/`code`.*1006 \(number\)/);
	});
});

describe('LoopbackGateway#failRest', () => {
	test('serves a 429 with Retry-After, and send resolves once the client has waited', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		gateway.failRest({ status: 429, retryAfterSeconds: 0.3, method: 'POST', route: '/channels/:id/messages' });

		await expect(defaultChannel(client, gateway).send('after the limit')).resolves.toMatchObject({
			content: 'after the limit',
		});

		const posts = gateway.requests.filter((request) => request.method === 'POST');
		expect(posts.map((request) => [request.status, request.injected])).toEqual([
			[429, true],
			[200, false],
		]);
		const [limited, retried] = posts;
		expect((retried?.receivedAt.getTime() ?? 0) - (limited?.receivedAt.getTime() ?? 0)).toBeGreaterThanOrEqual(300);
	});

	test('serves two 500s, and send resolves after the client retries', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		gateway.failRest({ status: 500, times: 2 });

		await expect(defaultChannel(client, gateway).send('third time lucky')).resolves.toBeDefined();

		expect(statusesOf(gateway.requests, 'POST', '/channels/:id/messages')).toEqual([200]);
		expect(gateway.requests.filter((request) => request.injected).map((request) => request.status)).toEqual([500, 500]);
		expect(gateway.sentMessages).toHaveLength(1);
	});

	test('serves a 403 with code 50013, which discord.js raises as a DiscordAPIError', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		gateway.failRest({ status: 403, code: 50013 });

		const error = await defaultChannel(client, gateway)
			.send('forbidden')
			.catch((caught: unknown) => caught);

		expect(error).toBeInstanceOf(DiscordAPIError);
		expect(error).toMatchObject({ status: 403, code: 50013, message: 'Missing Permissions' });
		expect(gateway.sentMessages).toEqual([]);
	});

	test('leaves requests to other routes alone', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		gateway.failRest({ status: 503, route: /^\/guilds\// });

		await defaultChannel(client, gateway).send('unaffected');

		expect(gateway.requests.some((request) => request.injected)).toBe(false);
	});
});

describe('LoopbackGateway#unhandled', () => {
	test('records a request no route matches and answers 404', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		const unhandled = nextEvent(gateway, 'unhandled');

		await expect(client.rest.get('/not-a-route/123')).rejects.toMatchObject({ status: 404, code: 0 });

		await unhandled;
		expect(gateway.unhandled.map((request) => `${request.method} ${request.path}`)).toEqual(['GET /not-a-route/123']);
	});
});

describe('LoopbackGateway#route', () => {
	test('adds a route whose :params reach the handler', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);
		gateway.route('GET', '/guilds/:id/bans/:userId', ({ params }) => ({
			body: { user: { id: params.userId, username: 'banned' }, reason: `from ${params.id}` },
		}));

		const ban = await client.guilds.cache.get(gateway.guildId)?.bans.fetch(gateway.humanUserId);

		expect(ban?.reason).toBe(`from ${gateway.guildId}`);
		expect(gateway.unhandled).toEqual([]);
	});
});

describe('LoopbackGateway REST routes', () => {
	test('answer the everyday discord.js calls', async () => {
		const gateway = await startGateway();
		const client = await readyClient(gateway);

		await expect(client.application.fetch()).resolves.toMatchObject({ id: gateway.botUserId });
		await expect(client.users.fetch(gateway.humanUserId, { force: true })).resolves.toMatchObject({
			username: 'loopback-human',
		});
		await expect(client.channels.fetch(gateway.channelId, { force: true })).resolves.toMatchObject({
			id: gateway.channelId,
		});
		await expect(client.channels.fetch('1234', { force: true })).rejects.toMatchObject({ code: 10003 });
		await defaultChannel(client, gateway).sendTyping();
		const commands = await client.application.commands.set([{ name: 'ping', description: 'Replies with pong' }]);
		expect(commands.map((command) => command.name)).toEqual(['ping']);
		expect(gateway.unhandled).toEqual([]);
	});
});

describe('LoopbackGateway constructor', () => {
	test('throws naming the option and the value for bad options', () => {
		expect(() => new LoopbackGateway({ heartbeatIntervalMs: -5 })).toThrow(
			'`heartbeatIntervalMs` must be a positive integer of milliseconds, got -5 (number)',
		);
		expect(() => new LoopbackGateway({ channels: [{ guildId: '99' }] })).toThrow(/`channels\[0\].guildId`.*'99'/);
		expect(() => new LoopbackGateway({ port: 70_000 })).toThrow(/`port`/);
	});

	test('builds extra guilds and channels, each announced in READY and GUILD_CREATE', async () => {
		const gateway = await startGateway({
			guilds: [{ name: 'First' }, { id: '1300000000000000100', name: 'Second' }],
			channels: [{ name: 'alerts' }, { name: 'logs', guildId: '1300000000000000100' }],
		});
		const client = await readyClient(gateway);

		expect(client.guilds.cache.map((guild) => guild.name).sort()).toEqual(['First', 'Second']);
		expect(client.guilds.cache.get('1300000000000000100')?.channels.cache.map((channel) => channel.name)).toEqual([
			'logs',
		]);
		expect(defaultChannel(client, gateway).name).toBe('alerts');
	});
});
