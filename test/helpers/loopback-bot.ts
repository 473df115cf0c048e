import { once } from 'node:events';
import { Client, Events, GatewayIntentBits } from 'discord.js';
import type { LoopbackGateway, LoopbackGatewayOptions } from '../../src/testing/index.js';

/** How long a test waits for one event before failing with the event's name. */
export const EVENT_TIMEOUT_MS = 5000;

/** `once()` with a timeout whose error names the event (AbortSignal.timeout alone only says "aborted"). */
export async function nextEvent(
	emitter: NodeJS.EventEmitter,
	event: string,
	timeoutMs = EVENT_TIMEOUT_MS,
): Promise<unknown[]> {
	try {
		return await once(emitter, event, { signal: AbortSignal.timeout(timeoutMs) });
	} catch (error) {
		throw new Error(`Timed out after ${timeoutMs} ms waiting for '${event}'`, { cause: error });
	}
}

/** A gateway class to construct: the built one (integration tests of the package) or the source one. */
export type GatewayClass = new (options?: LoopbackGatewayOptions) => LoopbackGateway;

/** Starts a loopback gateway and registers its shutdown. */
export async function startGateway(
	Gateway: GatewayClass,
	cleanups: (() => unknown)[],
	options: LoopbackGatewayOptions = {},
): Promise<LoopbackGateway> {
	const gateway = new Gateway(options);
	await gateway.start();
	cleanups.push(() => gateway.stop());
	return gateway;
}

/** A discord.js client for the gateway, destroyed at cleanup; not logged in. */
export function createClient(gateway: LoopbackGateway, cleanups: (() => unknown)[]): Client {
	const client = new Client({
		intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
		...gateway.clientOptions(),
	});
	cleanups.push(() => client.destroy());
	return client;
}

/** Logs a client in and waits for `clientReady` (login() resolves on READY, before the guilds arrive). */
export async function loginAndWaitReady(client: Client, token = 'loopback-test-token'): Promise<Client<true>> {
	const ready = nextEvent(client, Events.ClientReady);
	await client.login(token);
	await ready;
	if (!client.isReady()) throw new Error('client is not ready after clientReady');
	return client;
}
