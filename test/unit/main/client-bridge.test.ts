import { Client, type ClientOptions } from 'discord.js';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { clientBridge } from '../../../src/main/client-bridge.js';
import { ErrorCode, InvalidOptionError, type MessagePayload } from '../../../src/protocol/index.js';

const clients: Client[] = [];
afterEach(async () => {
	for (const client of clients.splice(0)) await client.destroy();
});

/** A client that never logs in; its REST post is recorded and answers with a message object. */
function recordingClient(options: Partial<ClientOptions> = {}) {
	const client = new Client({ intents: [], ...options });
	clients.push(client);
	const post = vi.fn(async (route: string, request: { body?: unknown; files?: unknown }) => ({
		id: '1',
		route,
		...request,
	}));
	client.rest.post = post as never;
	return { bridge: clientBridge(client), post };
}

/** Sends through the bridge and returns what reached the REST manager. */
async function sent(payload: MessagePayload, options?: Partial<ClientOptions>) {
	const { bridge, post } = recordingClient(options);
	await bridge.send('123', payload);
	expect(post).toHaveBeenCalledTimes(1);
	const [route, request] = post.mock.calls[0] ?? [];
	expect(route).toBe('/channels/123/messages');
	return request as {
		body: { allowed_mentions?: unknown; attachments?: unknown; [key: string]: unknown };
		files?: { data: Buffer; name: string }[];
	};
}

async function refused(payload: unknown): Promise<InvalidOptionError> {
	const { bridge, post } = recordingClient();
	const error = await bridge.send('123', payload as MessagePayload).catch((e: unknown) => e);
	expect(error).toBeInstanceOf(InvalidOptionError);
	expect(post).not.toHaveBeenCalled();
	return error as InvalidOptionError;
}

describe('clientBridge#send', () => {
	test('resolves discord.js message options as channel.send() does: allowedMentions becomes allowed_mentions', async () => {
		const { body } = await sent({ content: 'hi <@1>', allowedMentions: { parse: [], repliedUser: false } });
		expect(body).toMatchObject({ content: 'hi <@1>', allowed_mentions: { parse: [], replied_user: false } });
		expect(body).not.toHaveProperty('allowedMentions');
	});

	test('a string is the content', async () => {
		expect((await sent('hello')).body).toMatchObject({ content: 'hello' });
	});

	test("applies the client's default allowedMentions when the message names none", async () => {
		const { body } = await sent({ content: 'x' }, { allowedMentions: { parse: ['users'] } });
		expect(body.allowed_mentions).toEqual({ parse: ['users'] });
	});

	test('resolves reply, flags by name, embeds and components', async () => {
		const { body } = await sent({
			content: 'x',
			reply: { messageReference: '456', failIfNotExists: false },
			flags: 'SuppressEmbeds',
			embeds: [{ title: 'Top', fields: [{ name: 'a', value: '1' }] }],
			components: [{ type: 1, components: [{ type: 2, style: 5, label: 'Open', url: 'https://example.com' }] }],
		});
		expect(body).toMatchObject({
			message_reference: { message_id: '456', fail_if_not_exists: false },
			flags: 4,
			embeds: [{ title: 'Top', fields: [{ name: 'a', value: '1' }] }],
			components: [{ type: 1, components: [{ type: 2, style: 5, label: 'Open', url: 'https://example.com' }] }],
		});
	});

	test('uploads files given as bytes, with their attachment entries', async () => {
		const request = await sent({
			content: 'report',
			files: [{ attachment: new TextEncoder().encode('a,b\n1,2\n'), name: 'scores.csv', description: 'Scores' }],
		});
		expect(request.files?.map((file) => [file.name, file.data.toString()])).toEqual([['scores.csv', 'a,b\n1,2\n']]);
		expect(request.body.attachments).toEqual([expect.objectContaining({ id: '0', description: 'Scores' })]);
	});

	test.each([
		['allowed_mentions', { allowed_mentions: { parse: [] } }, 'allowedMentions'],
		['message_reference', { message_reference: { message_id: '1' } }, 'reply'],
	])('refuses the API name %s and names discord.js', async (option, payload, name) => {
		const error = await refused({ content: 'x', ...payload });
		expect(error.option).toBe(option);
		expect(error.message).toContain(`write \`${name}\``);
	});

	test('refuses an unknown option instead of letting discord.js drop it', async () => {
		const error = await refused({ contnet: 'x' });
		expect(error.option).toBe('contnet');
		expect(error.code).toBe(ErrorCode.InvalidOption);
	});

	test.each([
		['a path', '/etc/passwd'],
		['a URL', 'https://example.com/a.png'],
	])('refuses a file given as %s: the main thread does not read files for a worker', async (_, attachment) => {
		const error = await refused({ files: [{ attachment, name: 'a.png' }] });
		expect(error.option).toBe('files[0].attachment');
	});
});
