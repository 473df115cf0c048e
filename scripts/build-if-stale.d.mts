/** Whether dist/ under `root` is missing an output or older than a source. */
export function isStale(root: string): boolean;
