import type { IncomingMessage } from 'node:http';
import type { JsonValue } from './json-value.js';
import type { RestFile } from './rest-router.js';

/**
 * A parsed request body.
 * @internal
 */
export interface RequestBody {
	/** The JSON body, or the multipart `payload_json` field, parsed; `null` when there is none. */
	readonly json: JsonValue | null;
	readonly files: readonly RestFile[];
}

/**
 * Why a body was refused; the loopback gateway answers with Discord's error for it.
 * @internal
 */
export class RequestBodyError extends Error {
	override readonly name = 'RequestBodyError';
	readonly status: number;
	readonly code: number;
	constructor(status: number, code: number, message: string) {
		super(message);
		this.status = status;
		this.code = code;
	}
}

/** Larger than any upload Discord accepts (its ceiling is 500 MiB for boosted guilds; tests send far less). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const CRLF = '\r\n';

function parseJson(text: string): JsonValue | null {
	if (text.trim() === '') return null;
	try {
		return JSON.parse(text) as JsonValue;
	} catch {
		// Discord's own answer to a body it cannot parse.
		throw new RequestBodyError(400, 50109, 'The request body contains invalid JSON.');
	}
}

function headerParameter(header: string, name: string): string | undefined {
	const match = new RegExp(`(?:^|;)\\s*${name}=(?:"([^"]*)"|([^;]*))`, 'i').exec(header);
	return match === null ? undefined : (match[1] ?? match[2]?.trim());
}

/**
 * Splits a `multipart/form-data` body into `payload_json` and files. discord.js (through undici's FormData)
 * sends one `payload_json` field and one `files[n]` field per attachment.
 */
function parseMultipart(body: Buffer, boundary: string): RequestBody {
	const delimiter = Buffer.from(`--${boundary}`);
	const separator = Buffer.from(`${CRLF}--${boundary}`);
	const files: RestFile[] = [];
	let json: JsonValue | null = null;
	let position = body.indexOf(delimiter);
	while (position !== -1) {
		const partStart = position + delimiter.length;
		// `--boundary--` closes the body.
		if (body.subarray(partStart, partStart + 2).toString('latin1') === '--') break;
		const headersStart = partStart + CRLF.length;
		const partEnd = body.indexOf(separator, headersStart);
		if (partEnd === -1) throw new RequestBodyError(400, 50035, 'Invalid Form Body');
		const part = body.subarray(headersStart, partEnd);
		const headerEnd = part.indexOf(`${CRLF}${CRLF}`);
		if (headerEnd === -1) throw new RequestBodyError(400, 50035, 'Invalid Form Body');
		const headers = new Map<string, string>();
		for (const line of part.subarray(0, headerEnd).toString('utf8').split(CRLF)) {
			const colon = line.indexOf(':');
			if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
		}
		const content = part.subarray(headerEnd + 2 * CRLF.length);
		const disposition = headers.get('content-disposition') ?? '';
		const field = headerParameter(disposition, 'name') ?? '';
		const filename = headerParameter(disposition, 'filename');
		if (filename !== undefined) {
			files.push({
				field,
				filename,
				contentType: headers.get('content-type') ?? 'application/octet-stream',
				data: Buffer.from(content),
			});
		} else if (field === 'payload_json') {
			json = parseJson(content.toString('utf8'));
		}
		position = partEnd + CRLF.length;
	}
	return { json, files };
}

/**
 * Reads and parses a request body: JSON, `multipart/form-data` (`payload_json` + files) or nothing.
 * @throws {@link RequestBodyError} for invalid JSON, a malformed multipart body or a body over 64 MiB.
 * @internal
 */
export async function readRequestBody(request: IncomingMessage): Promise<RequestBody> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of request) {
		const buffer = chunk as Buffer;
		size += buffer.length;
		if (size > MAX_BODY_BYTES) throw new RequestBodyError(413, 40005, 'Request entity too large');
		chunks.push(buffer);
	}
	const body = Buffer.concat(chunks);
	const contentType = request.headers['content-type'] ?? '';
	if (/^multipart\/form-data/i.test(contentType)) {
		const boundary = headerParameter(contentType, 'boundary');
		if (boundary === undefined || boundary === '') throw new RequestBodyError(400, 50035, 'Invalid Form Body');
		return parseMultipart(body, boundary);
	}
	return { json: parseJson(body.toString('utf8')), files: [] };
}
