import { type Mock, vi } from 'vitest';
import type { LoopLogger } from '../../src/index.js';

/** A {@link LoopLogger} whose methods are mocks: keeps stderr clean and lets a test assert what was logged. */
export interface RecordingLogger extends LoopLogger {
	readonly warn: Mock<(message: string, error?: unknown) => void>;
	readonly error: Mock<(message: string, error?: unknown) => void>;
}

/** Creates a fresh {@link RecordingLogger}. */
export function recordingLogger(): RecordingLogger {
	return {
		warn: vi.fn<(message: string, error?: unknown) => void>(),
		error: vi.fn<(message: string, error?: unknown) => void>(),
	};
}
