import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

/**
 * Which of `needles` occur anywhere in the readable memory of process `pid` (read through /proc/<pid>/mem, which
 * the test process may read for its own children), as one-byte or two-byte strings: how V8 stores them.
 */
export function findInMemory(pid: number | 'self', needles: readonly string[]): Set<string> {
	const patterns = needles.flatMap((needle) => [
		[needle, Buffer.from(needle, 'latin1')] as const,
		[needle, Buffer.from(needle, 'utf16le')] as const,
	]);
	const overlap = Math.max(...patterns.map(([, bytes]) => bytes.length));
	const found = new Set<string>();
	const fd = openSync(`/proc/${pid}/mem`, 'r');
	try {
		for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
			const match = /^([0-9a-f]+)-([0-9a-f]+) r/.exec(line);
			if (!match || line.endsWith('[vvar]') || line.endsWith('[vsyscall]')) continue;
			const end = Number.parseInt(match[2] as string, 16);
			let position = Number.parseInt(match[1] as string, 16);
			const chunk = Buffer.alloc(4 << 20);
			while (position < end) {
				const length = Math.min(chunk.length, end - position);
				let read = 0;
				try {
					read = readSync(fd, chunk, 0, length, position);
				} catch {
					break; // a region that cannot be read (a guard page)
				}
				const view = chunk.subarray(0, read);
				for (const [needle, bytes] of patterns) if (view.includes(bytes)) found.add(needle);
				if (read < length || position + read >= end) break;
				position += read - overlap;
			}
		}
	} finally {
		closeSync(fd);
	}
	return found;
}
