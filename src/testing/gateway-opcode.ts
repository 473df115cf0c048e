/**
 * Gateway opcodes the loopback gateway sends or understands (Discord API v10). Kept here rather than imported
 * from `discord-api-types` so `discord-tasks/testing` has no dependency beyond `ws`.
 */
export const GatewayOpcode = {
	Dispatch: 0,
	Heartbeat: 1,
	Identify: 2,
	PresenceUpdate: 3,
	VoiceStateUpdate: 4,
	Resume: 6,
	Reconnect: 7,
	RequestGuildMembers: 8,
	InvalidSession: 9,
	Hello: 10,
	HeartbeatAck: 11,
} as const;
/** One of the {@link GatewayOpcode} values. */
export type GatewayOpcode = (typeof GatewayOpcode)[keyof typeof GatewayOpcode];

/**
 * Close codes the loopback gateway uses itself. `closeConnections(code)` accepts any valid code; these are the
 * ones with a fixed meaning here.
 */
export const GatewayCloseCode = {
	/** discord.js re-identifies after it: the session is discarded. Use {@link GatewayCloseCode.UnknownError} to test a resume. */
	Normal: 1000,
	/** Unknown error: discord.js resumes. */
	UnknownError: 4000,
	UnknownOpcode: 4001,
	DecodeError: 4002,
	NotAuthenticated: 4003,
	/** Wrong token in IDENTIFY: discord.js gives up (`shardDisconnect`). */
	AuthenticationFailed: 4004,
	AlreadyAuthenticated: 4005,
	/** Sent when the client asks for a protocol this gateway does not speak (zlib-stream, etf, another API version). */
	InvalidApiVersion: 4012,
	/**
	 * The code discord.js uses for its own "resuming" closes. Its `onClose` ignores it when the server sends it, so
	 * the shard hangs until zombie detection fires. The loopback gateway never sends it unless asked to.
	 */
	Resuming: 4200,
} as const;
/** One of the {@link GatewayCloseCode} values. */
export type GatewayCloseCode = (typeof GatewayCloseCode)[keyof typeof GatewayCloseCode];

/** A gateway frame (`{ op, d, s, t }`), as sent over the socket. */
export interface GatewayPayload {
	readonly op: number;
	readonly d: unknown;
	readonly s: number | null;
	readonly t: string | null;
}
