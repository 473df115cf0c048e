/**
 * A value that survives `JSON.stringify` / `JSON.parse` unchanged: what the loopback gateway receives in REST
 * bodies and what its fixtures are made of.
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;

/** A JSON object, as parsed from a request body or sent in a gateway payload. */
export type JsonObject = { readonly [key: string]: JsonValue };

/**
 * Whether `value` is a plain JSON object (not an array, not null).
 * @internal
 */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
