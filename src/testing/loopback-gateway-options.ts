import type { GatewayFixturesOptions } from './gateway-fixtures.js';
import { invalidOption } from './invalid-option.js';

/** Options of {@link LoopbackGateway}. The fixture options (`botUser`, `guilds`, `channels`...) are inherited. */
export interface LoopbackGatewayOptions extends GatewayFixturesOptions {
	/**
	 * TCP port on 127.0.0.1; `0` picks a free one. The client caches the gateway URL, so a test that stops and
	 * restarts the gateway gets the same port back either way (see {@link LoopbackGateway.start}).
	 * @defaultValue `0`
	 */
	readonly port?: number;
	/**
	 * The bot token. When set, every REST route except `GET /gateway` answers 401 to any other
	 * `Authorization: Bot <token>` (so `client.login(wrong)` rejects with `TokenInvalid`), and IDENTIFY or RESUME
	 * with another token is closed with 4004. A `Bot ` prefix is ignored, as discord.js does.
	 * @defaultValue no check
	 */
	readonly token?: string;
	/**
	 * `heartbeat_interval` sent in HELLO. Discord's is 41250 ms; a short one makes `client.ws.ping` and zombie
	 * detection happen within a test's time (the first heartbeat comes after `interval × random()`).
	 * @defaultValue `1000`
	 */
	readonly heartbeatIntervalMs?: number;
	/**
	 * Whether a message the bot POSTs is also dispatched as MESSAGE_CREATE, as Discord does (so the bot's own
	 * `messageCreate` handlers see it).
	 * @defaultValue `true`
	 */
	readonly echoMessageCreate?: boolean;
}

/** Defaults of {@link LoopbackGatewayOptions}. */
export const DEFAULT_LOOPBACK_GATEWAY_OPTIONS = {
	port: 0,
	heartbeatIntervalMs: 1000,
	echoMessageCreate: true,
} as const satisfies LoopbackGatewayOptions;

/**
 * {@link LoopbackGatewayOptions} after defaults (fixture options are resolved by `GatewayFixtures`).
 * @internal
 */
export interface ResolvedLoopbackGatewayOptions {
	readonly port: number;
	/** `null`: no token check. */
	readonly token: string | null;
	readonly heartbeatIntervalMs: number;
	readonly echoMessageCreate: boolean;
}

/** setTimeout's ceiling; the client's heartbeat `setInterval` overflows past it. */
const MAX_INTERVAL_MS = 2_147_483_647;

/**
 * Strips the `Bot `/`Bearer ` prefix discord.js strips from tokens and headers.
 * @internal
 */
export function bareToken(token: string): string {
	return token.replace(/^(Bot|Bearer)\s*/i, '');
}

/**
 * Checks options and applies {@link DEFAULT_LOOPBACK_GATEWAY_OPTIONS}.
 * @throws {@link InvalidOptionError} naming the option and the refused value.
 * @internal
 */
export function resolveLoopbackGatewayOptions(options: LoopbackGatewayOptions): ResolvedLoopbackGatewayOptions {
	if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options, 'option');
	const {
		port = DEFAULT_LOOPBACK_GATEWAY_OPTIONS.port,
		heartbeatIntervalMs = DEFAULT_LOOPBACK_GATEWAY_OPTIONS.heartbeatIntervalMs,
		echoMessageCreate = DEFAULT_LOOPBACK_GATEWAY_OPTIONS.echoMessageCreate,
		token,
	} = options;
	if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) {
		throw invalidOption('port', 'an integer from 0 to 65535', port, 'option');
	}
	if (!Number.isSafeInteger(heartbeatIntervalMs) || heartbeatIntervalMs <= 0 || heartbeatIntervalMs > MAX_INTERVAL_MS) {
		throw invalidOption('heartbeatIntervalMs', 'a positive integer of milliseconds', heartbeatIntervalMs, 'option');
	}
	if (typeof echoMessageCreate !== 'boolean') {
		throw invalidOption('echoMessageCreate', 'a boolean', echoMessageCreate, 'option');
	}
	if (token !== undefined && (typeof token !== 'string' || bareToken(token) === '')) {
		throw invalidOption('token', 'a non-empty string', token, 'option');
	}
	return { port, heartbeatIntervalMs, echoMessageCreate, token: token === undefined ? null : bareToken(token) };
}
