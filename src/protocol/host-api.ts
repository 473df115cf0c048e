import type { Cloneable } from './cloneable.js';
import type { SerializedError } from './errors.js';

/** HTTP methods `ctx.discord.rest` offers. */
export const RestMethod = { Get: 'get', Post: 'post', Put: 'put', Patch: 'patch', Delete: 'delete' } as const;
/** One of the {@link RestMethod} values. */
export type RestMethod = (typeof RestMethod)[keyof typeof RestMethod];

/** Options of a REST call from a task (a cloneable subset of @discordjs/rest's request options). */
export type RestCallOptions = {
	readonly body?: Cloneable;
	readonly query?: Readonly<Record<string, string>>;
	readonly reason?: string;
	readonly headers?: Readonly<Record<string, string>>;
};

/** A message a task sends: a string, or a cloneable subset of discord.js message options. */
export type MessagePayload = string | { readonly [key: string]: Cloneable };

/** A call's result crossing back: the value, or the error serialised (so its class survives). */
export type HostResult =
	| { readonly ok: true; readonly value: Cloneable }
	| { readonly ok: false; readonly error: SerializedError };
