/** Something told when a signal it watches aborts. @internal */
export interface AbortWatcher {
	onAbort(signal: AbortSignal): void;
}

/**
 * The watchers of each signal. A loop's signal lives for its whole run and is watched thousands of times (each
 * sleep, each worker iteration): one 'abort' listener per signal and a Set entry per watcher cost a fraction of
 * adding and removing an EventTarget listener every time (measured: the listener pair was the largest item of a
 * firing after the promises, and about 0.5 µs of a worker iteration's dispatch).
 */
const watchersBySignal = new WeakMap<AbortSignal, Set<AbortWatcher>>();

/**
 * Tells `watcher` when `signal` aborts, once, in the order watchers were added; {@link unwatchAbort} stops it.
 * The caller checks `signal.aborted` first: a signal that has already aborted tells nobody.
 * @internal
 */
export function watchAbort(signal: AbortSignal, watcher: AbortWatcher): void {
	let watchers = watchersBySignal.get(signal);
	if (!watchers) {
		const created = new Set<AbortWatcher>();
		watchers = created;
		watchersBySignal.set(signal, created);
		signal.addEventListener(
			'abort',
			() => {
				const told = [...created];
				created.clear();
				for (const each of told) each.onAbort(signal);
			},
			{ once: true },
		);
	}
	watchers.add(watcher);
}

/** Stops telling `watcher` about `signal`. @internal */
export function unwatchAbort(signal: AbortSignal, watcher: AbortWatcher): void {
	watchersBySignal.get(signal)?.delete(watcher);
}
