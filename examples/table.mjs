// Cells of the status tables the example bots print.

/** `text` cut or padded with spaces to `width` characters. */
export function pad(text, width) {
	const value = String(text);
	return value.length >= width ? value.slice(0, width) : value + ' '.repeat(width - value.length);
}

/** An ISO time as `in 1.5s` or `2.0s ago`; `-` for none. */
export function ago(iso) {
	if (!iso) return '-';
	const ms = new Date(iso).getTime() - Date.now();
	return ms >= 0 ? `in ${(ms / 1000).toFixed(1)}s` : `${(-ms / 1000).toFixed(1)}s ago`;
}
