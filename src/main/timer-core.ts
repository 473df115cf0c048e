import { type Clock, MAX_TIMER_DELAY_MS, systemClock } from './clock.js';

/**
 * One wake-up that a {@link TimerCore} holds: a due time and the function to call once `Date.now()` has reached it.
 * Its owner (a loop) keeps one for its whole life and reschedules it for every sleep, so a sleep allocates nothing.
 * `fire` is called with `owner`, so many entries can share one function instead of holding a closure each.
 *
 * @typeParam Owner - What `fire` receives.
 * @internal
 */
export class TimerEntry<Owner = undefined> {
	/** When to fire, in `Date.now()` milliseconds (may be fractional: jitter). */
	due = 0;
	/** Tie-break among equal due times: first scheduled, first fired. */
	order = 0;
	/** Position in the core's heap; -1 while not scheduled, -2 while waiting for the end of a wake to enter it. */
	index = NOT_SCHEDULED;
	readonly #callback: (owner: Owner) => void;
	readonly #owner: Owner;

	/**
	 * @param callback - Called with `owner` once the entry is due, from the core's timer; must not throw.
	 * @param owner - What `callback` receives.
	 */
	constructor(callback: (owner: Owner) => void, owner?: Owner) {
		this.#callback = callback;
		this.#owner = owner as Owner;
	}

	/** Runs the callback (the core calls it). */
	fire(): void {
		this.#callback(this.#owner);
	}
}

/** What the core needs of an entry (a {@link TimerEntry} of any owner). */
interface Schedulable {
	due: number;
	order: number;
	index: number;
	fire(): void;
}

/** How long one wake may fire entries before yielding to the event loop, in ms. */
const SLICE_MS = 5;
/** The clock is read every 64 firings to check the slice: a read per firing would cost more than most firings. */
const SLICE_CHECK_MASK = 63;

const NOT_SCHEDULED = -1;
const DEFERRED = -2;

type TimerHandle = ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate>;

/**
 * The scheduling core of every loop on the system clock: a binary min-heap of due times behind one armed timer,
 * instead of a timer, a promise and a suspended async frame per sleeping loop.
 *
 * - **Never early.** Node timers can fire about 1 ms before their delay; a wake-up that finds the first entry not
 *   yet due re-arms for the rest (the re-arm guard), so an entry fires only once `Date.now() >= due`.
 * - **Bounded timers.** The timer is clamped to {@link MAX_TIMER_DELAY_MS}, so a due time weeks away is reached in
 *   chunks, each wake re-reading the clock.
 * - **Fair order.** Due entries fire in order of due time, then of scheduling, in one timer callback, in slices of at
 *   most about 5 ms: when more are due, the rest fire on the next turn of the event loop (`setImmediate`). An entry
 *   rescheduled to a past time during a callback also waits for the next turn, so a catch-up burst yields between
 *   iterations as a zero-length sleep does (C18) and cannot starve the others.
 * - **Fake timers.** `Date.now`, `setTimeout` and `setImmediate` are read when called, never captured, so vitest's
 *   fake timers (installed before or after the core was first used) drive it; a timer armed under one
 *   implementation and found replaced is re-armed under the new one.
 *
 * @internal
 */
export class TimerCore {
	readonly #heap: Schedulable[] = [];
	#order = 0;
	/** The armed timer, and the due time it was armed for (`-Infinity` for an immediate). */
	#handle: TimerHandle | undefined;
	#armedFor = Number.POSITIVE_INFINITY;
	/** The `setTimeout` the handle came from: fake timers replace it, and their handles mean nothing to the real one. */
	#armedWith: unknown;
	#clear: ((handle: TimerHandle) => void) | undefined;
	/** Whether the core is firing due entries (inside its timer callback). */
	#firing = false;
	/**
	 * Entries scheduled while firing. They enter the heap when the wake ends, so an entry rescheduled into the past
	 * (a catch-up) neither fires twice in one wake nor sits at the top of the heap in front of the others still due.
	 */
	readonly #deferred: Schedulable[] = [];
	readonly #onTimer = () => this.#wake();

	/** How many entries are scheduled. */
	get size(): number {
		return this.#heap.length;
	}

	/** Whether `entry` is scheduled. */
	has(entry: Schedulable): boolean {
		return entry.index === DEFERRED || (entry.index >= 0 && this.#heap[entry.index] === entry);
	}

	/** Schedules `entry` to fire at `due` (ms since the epoch), moving it if it was already scheduled. */
	schedule(entry: Schedulable, due: number): void {
		entry.due = due;
		entry.order = this.#order++;
		if (this.#firing) {
			if (entry.index >= 0) this.#remove(entry);
			if (entry.index !== DEFERRED) this.#deferred.push(entry);
			entry.index = DEFERRED;
			return;
		}
		if (this.has(entry)) {
			// A changed due time can move the entry either way; sifting both ways costs one comparison in the other.
			this.#siftUp(entry.index);
			this.#siftDown(entry.index);
		} else {
			this.#push(entry);
		}
		if (this.#heap[0] === entry) this.#arm();
	}

	/** Removes `entry` if it is scheduled; the timer is cleared once nothing is left. */
	cancel(entry: Schedulable): void {
		if (entry.index === DEFERRED) {
			entry.index = NOT_SCHEDULED; // left in #deferred, skipped when the wake ends
			return;
		}
		if (!this.has(entry)) return;
		this.#remove(entry);
		// A timer armed for an earlier entry than the new first one only wakes early and re-arms; but with nothing
		// left, no timer may stay (it would keep the process alive, and tests count timers).
		if (this.#heap.length === 0 && !this.#firing) this.#disarm();
	}

	#remove(entry: Schedulable): void {
		const index = entry.index;
		const last = this.#heap.pop() as Schedulable;
		entry.index = NOT_SCHEDULED;
		if (last !== entry) {
			this.#place(last, index);
			this.#siftUp(index);
			this.#siftDown(last.index);
		}
	}

	#wake(): void {
		this.#handle = undefined;
		this.#armedFor = Number.POSITIVE_INFINITY;
		const now = Date.now();
		this.#firing = true;
		let fired = 0;
		try {
			for (let first = this.#heap[0]; first !== undefined && first.due <= now; first = this.#heap[0]) {
				// A slice at a time: when thousands of entries are due at once (loops on the same grid, or all started
				// together), the rest fire on the next turn, so I/O and other timers get in between.
				if ((++fired & SLICE_CHECK_MASK) === 0 && Date.now() - now >= SLICE_MS) break;
				this.#removeFirst();
				try {
					first.fire();
				} catch (error) {
					// Fire functions do not throw; should one, the other entries still fire and the error still surfaces.
					queueMicrotask(() => {
						throw error;
					});
				}
			}
		} finally {
			this.#firing = false;
			this.#admitDeferred();
			this.#arm();
		}
	}

	#admitDeferred(): void {
		const deferred = this.#deferred;
		for (let i = 0; i < deferred.length; i++) {
			const entry = deferred[i] as Schedulable;
			if (entry.index === DEFERRED) this.#push(entry); // else cancelled meanwhile
		}
		deferred.length = 0;
	}

	/** Arms the timer for the first entry, unless a timer that fires no later is already armed. */
	#arm(): void {
		const first = this.#heap[0];
		if (!first) {
			this.#disarm();
			return;
		}
		// Fake timers installed or removed since the timer was armed: it may never fire; arm under the current ones.
		if (this.#handle !== undefined && this.#armedWith !== globalThis.setTimeout) this.#disarm();
		if (this.#handle !== undefined && this.#armedFor <= first.due) return;
		this.#disarm();
		const delay = first.due - Date.now();
		this.#armedWith = globalThis.setTimeout;
		if (delay <= 0) {
			// setTimeout(fn, 0) waits at least 1 ms in Node; a due entry only has to wait for the next turn (C18).
			this.#handle = setImmediate(this.#onTimer);
			this.#clear = clearImmediate as (handle: TimerHandle) => void;
			this.#armedFor = Number.NEGATIVE_INFINITY;
		} else {
			this.#handle = setTimeout(this.#onTimer, Math.min(delay, MAX_TIMER_DELAY_MS));
			this.#clear = clearTimeout as (handle: TimerHandle) => void;
			this.#armedFor = first.due;
		}
	}

	#disarm(): void {
		if (this.#handle === undefined) return;
		// The clear of the implementation that armed it, even if fake timers were swapped in or out meanwhile.
		this.#clear?.(this.#handle);
		this.#handle = undefined;
		this.#armedFor = Number.POSITIVE_INFINITY;
	}

	#removeFirst(): void {
		const heap = this.#heap;
		const first = heap[0] as Schedulable;
		const last = heap.pop() as Schedulable;
		first.index = NOT_SCHEDULED;
		if (last !== first) {
			this.#place(last, 0);
			this.#siftDown(0);
		}
	}

	#siftUp(index: number): void {
		const heap = this.#heap;
		const entry = heap[index] as Schedulable;
		while (index > 0) {
			const parentIndex = (index - 1) >> 1;
			const parent = heap[parentIndex] as Schedulable;
			if (!before(entry, parent)) break;
			this.#place(parent, index);
			index = parentIndex;
		}
		this.#place(entry, index);
	}

	#siftDown(index: number): void {
		const heap = this.#heap;
		const length = heap.length;
		const entry = heap[index] as Schedulable;
		for (;;) {
			const left = 2 * index + 1;
			if (left >= length) break;
			const right = left + 1;
			let child = left;
			if (right < length && before(heap[right] as Schedulable, heap[left] as Schedulable)) child = right;
			const smaller = heap[child] as Schedulable;
			if (!before(smaller, entry)) break;
			this.#place(smaller, index);
			index = child;
		}
		this.#place(entry, index);
	}

	#push(entry: Schedulable): void {
		this.#heap.push(entry);
		this.#siftUp(this.#heap.length - 1);
	}

	/** Puts `entry` at `index` of the heap; every move goes through here, so `entry.index` is always its position. */
	#place(entry: Schedulable, index: number): void {
		this.#heap[index] = entry;
		entry.index = index;
	}
}

function before(a: Schedulable, b: Schedulable): boolean {
	return a.due < b.due || (a.due === b.due && a.order < b.order);
}

/** The core shared by every loop on {@link systemClock}. @internal */
export const systemTimerCore = new TimerCore();

/**
 * The timer core that serves `clock`: the shared one for the system clock; none for a clock of the user's (tests,
 * a simulated clock), whose sleeps the loop awaits one by one through the {@link Clock} interface.
 * @internal
 */
export function timerCoreFor(clock: Clock): TimerCore | undefined {
	return clock === systemClock ? systemTimerCore : undefined;
}
