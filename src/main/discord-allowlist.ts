import {
	assertKnownKeys,
	DiscordAccessError,
	describeValue,
	ErrorCode,
	InvalidOptionError,
	RestMethod,
} from '../protocol/index.js';

/**
 * What a loop's tasks may do on Discord; anything else is refused on the main thread before a request is made.
 *
 * - `channels` limits every call that names a channel: `ctx.discord.send()` and every REST route under
 *   `/channels/{id}`. A REST call on such a route needs both: the route in `routes` and the channel in `channels`.
 * - `routes` says which REST calls a task may make at all.
 */
export interface DiscordAllowlist {
	/** Channel ids (snowflakes) a task may send to or call routes of, or `'*'` for any. @defaultValue '*' */
	readonly channels?: readonly string[] | '*';
	/**
	 * REST routes `ctx.discord.rest` may call: `'GET /channels/:id/messages'` style patterns (the method is
	 * optional; `:param` matches one path segment, a final `*` one or more), or `'*'` for any.
	 * @defaultValue [] (no raw REST access)
	 */
	readonly routes?: readonly string[] | '*';
}

const ALLOWLIST_KEYS: ReadonlySet<string> = new Set(
	Object.keys({ channels: true, routes: true } satisfies Record<keyof DiscordAllowlist, true>),
);

/** A Discord id: up to 25 digits (a 64-bit snowflake has at most 20). */
export const SNOWFLAKE = /^\d{1,25}$/;

/**
 * The characters a route may hold: RFC 3986 path characters. Everything else is refused rather than encoded or
 * dropped: `?` and `#` would end the path before the part the allowlist saw, a space, TAB or LF would be dropped
 * or encoded by the URL parser (`/.\t./` becomes `..`), and `\` is a separator to the WHATWG parser.
 */
const PATH_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,=:@/%]+$/;
/** A percent-encoded unreserved character (`%41` for `A`, `%2D` for `-`). */
const ENCODED_UNRESERVED = /%(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2[DE]|5F|7E)/i;
/**
 * Characters that must not appear in a segment even percent-encoded: separators; `;`, which starts a path parameter
 * that some servers and proxies strip (`/channels;/B` read as `/channels/B`); and `%`, a second layer of encoding
 * (`%252e%252e`) that a proxy decoding twice would turn into `..`. No Discord route uses them.
 */
const FORBIDDEN_DECODED = /[/\\?#;%]/;
/** Whether a decoded segment holds a C0 control character or DEL. */
const hasControl = (text: string): boolean => {
	for (let index = 0; index < text.length; index++) {
		const code = text.charCodeAt(index);
		if (code < 0x20 || code === 0x7f) return true;
	}
	return false;
};
/** The longest route accepted; Discord's longest routes are under 150 characters. */
export const MAX_ROUTE_LENGTH = 1024;
/** The base @discordjs/rest puts before a route; only its path matters for the check. */
const API_BASE = 'https://discord.invalid/api/v10';

const REST_METHODS: ReadonlySet<string> = new Set(Object.values(RestMethod));

function denied(message: string): DiscordAccessError {
	return new DiscordAccessError(message, { code: ErrorCode.DiscordAccessDenied });
}

/**
 * Checks a route a task asked for and returns the path that will be requested, exactly. The check runs on what
 * the REST client will send: the route is appended to the API base and parsed by the WHATWG URL parser, and it
 * must come out unchanged (no dot segment resolved, no character dropped, no query or fragment split off).
 * Segments are also decoded, so `%2e%2e` and `%2F` cannot smuggle a dot segment or a separator past the parser
 * to a server that decodes them.
 *
 * @throws {@link DiscordAccessError} (`ERR_DISCORD_ACCESS_DENIED`) naming what is wrong.
 */
export function checkRoute(route: unknown): string {
	const refuse = (why: string) =>
		denied(`A REST route must be a plain path like '/channels/123/messages': ${why}, got ${describeValue(route)}`);
	if (typeof route !== 'string') throw refuse('it is not a string');
	if (route.length > MAX_ROUTE_LENGTH) throw refuse(`it is longer than ${MAX_ROUTE_LENGTH} characters`);
	if (!route.startsWith('/')) throw refuse("it does not start with '/'");
	if (!PATH_CHARACTERS.test(route))
		throw refuse(
			"it holds a character outside a URL path ('?', '#', '\\', whitespace or a control character; put a query in options.query)",
		);
	for (const segment of route.slice(1).split('/')) {
		if (segment === '') throw refuse('it has an empty segment');
		let decoded: string;
		try {
			decoded = decodeURIComponent(segment);
		} catch {
			throw refuse(`segment '${segment}' is not valid percent-encoding`);
		}
		if (decoded === '.' || decoded === '..') throw refuse('it has a dot segment');
		// An encoded letter, digit or `-._~` means the same as the character itself to the server (RFC 3986 6.2.2.2):
		// `/%63hannels/1` is `/channels/1`. Refusing it keeps one spelling per route, the one the allowlist matches.
		if (ENCODED_UNRESERVED.test(segment)) throw refuse(`segment '${segment}' percent-encodes a plain character`);
		if (FORBIDDEN_DECODED.test(decoded) || hasControl(decoded))
			throw refuse(`segment '${segment}' encodes a separator or a control character`);
	}
	const url = new URL(API_BASE + route);
	if (url.pathname !== new URL(API_BASE).pathname + route || url.search !== '' || url.hash !== '') {
		throw refuse('the URL parser would change it');
	}
	return route;
}

/**
 * The REST method a task asked for, if it is one of the five `ctx.discord.rest` offers.
 * @throws {@link DiscordAccessError} for anything else (a method name is never looked up on the client).
 */
export function checkRestMethod(method: unknown): RestMethod {
	if (typeof method !== 'string' || !REST_METHODS.has(method)) {
		throw denied(`A REST method must be one of ${[...REST_METHODS].join(', ')}, got ${describeValue(method)}`);
	}
	return method as RestMethod;
}

/** One compiled route pattern: a method (or any) and its segments. */
interface RoutePattern {
	readonly method: string;
	readonly segments: readonly string[];
}

function compilePattern(pattern: unknown, option: string): RoutePattern {
	const invalid = (why: string) =>
		new InvalidOptionError(
			option,
			`\`${option}\` must be a route pattern like 'GET /channels/:id/messages' (${why}), got ${describeValue(pattern)}`,
		);
	if (typeof pattern !== 'string') throw invalid('not a string');
	const parts = pattern.trim().split(/\s+/);
	if (parts.length > 2) throw invalid('a method and one path');
	const path = parts.at(-1) ?? '';
	const method = parts.length === 2 ? (parts[0] ?? '').toLowerCase() : '*';
	if (method !== '*' && !REST_METHODS.has(method)) throw invalid(`unknown method '${parts[0]}'`);
	if (!path.startsWith('/') || !PATH_CHARACTERS.test(path)) throw invalid("a path starting with '/'");
	const segments = path.slice(1).split('/');
	segments.forEach((segment, index) => {
		if (segment === '' || segment === '.' || segment === '..') throw invalid('empty and dot segments never match');
		if (segment.includes('*') && (segment !== '*' || index !== segments.length - 1))
			throw invalid("'*' stands alone as the last segment");
	});
	return { method, segments };
}

function matches(pattern: RoutePattern, method: string, segments: readonly string[]): boolean {
	if (pattern.method !== '*' && pattern.method !== method) return false;
	const last = pattern.segments.length - 1;
	const rest = pattern.segments[last] === '*';
	if (rest ? segments.length <= last : segments.length !== pattern.segments.length) return false;
	for (let index = 0; index < (rest ? last : segments.length); index++) {
		const expected = pattern.segments[index] as string;
		if (!expected.startsWith(':') && expected !== segments[index]) return false;
	}
	return true;
}

/**
 * A loop's {@link DiscordAllowlist}, validated and compiled once when the loop is created: every host call is then
 * a set lookup and a few segment comparisons.
 * @internal
 */
export class CompiledAllowlist {
	readonly #channels: ReadonlySet<string> | '*';
	readonly #routes: readonly RoutePattern[] | '*';

	/** @throws {@link InvalidOptionError} naming the option and the value it got. */
	constructor(allowlist: unknown, option = 'discord') {
		if (allowlist === undefined) allowlist = {};
		if (typeof allowlist !== 'object' || allowlist === null || Array.isArray(allowlist)) {
			throw new InvalidOptionError(
				option,
				`\`${option}\` must be an object like { channels: ['123…'], routes: ['GET /guilds/:id'] }, got ${describeValue(allowlist)}`,
			);
		}
		assertKnownKeys(allowlist, ALLOWLIST_KEYS, option, {}, option);
		const { channels = '*', routes = [] } = allowlist as DiscordAllowlist;
		if (channels === '*') this.#channels = '*';
		else if (Array.isArray(channels)) {
			channels.forEach((id: unknown, index) => {
				if (typeof id !== 'string' || !SNOWFLAKE.test(id)) {
					throw new InvalidOptionError(
						`${option}.channels[${index}]`,
						`\`${option}.channels[${index}]\` must be a channel id (a snowflake string of digits), got ${describeValue(id)}`,
					);
				}
			});
			this.#channels = new Set(channels);
		} else {
			throw new InvalidOptionError(
				`${option}.channels`,
				`\`${option}.channels\` must be an array of channel ids or '*', got ${describeValue(channels)}`,
			);
		}
		if (routes === '*') this.#routes = '*';
		else if (Array.isArray(routes)) {
			this.#routes = routes.map((pattern: unknown, index) => compilePattern(pattern, `${option}.routes[${index}]`));
		} else {
			throw new InvalidOptionError(
				`${option}.routes`,
				`\`${option}.routes\` must be an array of route patterns or '*', got ${describeValue(routes)}`,
			);
		}
	}

	/** Whether a task may send to (or call a route of) `channelId`. */
	allowsChannel(channelId: string): boolean {
		return this.#channels === '*' || this.#channels.has(channelId);
	}

	/**
	 * Whether a task may call `method route` (a route that passed {@link checkRoute}); a route under
	 * `/channels/{id}` also needs its channel allowed.
	 */
	allowsRoute(method: RestMethod, route: string): boolean {
		const segments = route.slice(1).split('/');
		// Compared without case: a server that routes `/Channels/1` like `/channels/1` must not open a way around.
		if (segments[0]?.toLowerCase() === 'channels' && segments[1] !== undefined && !this.allowsChannel(segments[1]))
			return false;
		if (this.#routes === '*') return true;
		return this.#routes.some((pattern) => matches(pattern, method, segments));
	}
}
