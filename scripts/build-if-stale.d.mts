/** Whether dist/ under `root` is missing an output or older than a source. */
export function isStale(root: string): boolean;
/** What a build without declarations writes to dist/ under `root` (paths relative to dist/). */
export function outputs(root: string): string[];
