import { type Clock, MAX_TIMER_DELAY_MS, systemClock } from './clock.js';
import { type SlottedEntry, TimerSlot, TimerSlots } from './timer-slots.js';

/**
 * One wake-up that a {@link TimerCore} holds: a due time and the function to call once `Date.now()` has reached it.
 * Its owner (a loop) keeps one for its whole life and reschedules it for every sleep, so a sleep allocates nothing.
 * The callback is called with `owner`, so many entries can share one function instead of holding a closure each.
 *
 * @typeParam Owner - What the callback receives.
 * @internal
 */
export class TimerEntry<Owner = undefined> implements SlottedEntry {
	/** The slot it waits in, {@link DEFERRED} while waiting for the end of a wake to enter one, else `undefined`. */
	slot: TimerSlot | undefined = undefined;
	previous: SlottedEntry | undefined = undefined;
	next: SlottedEntry | undefined = undefined;
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
interface Schedulable extends SlottedEntry {
	fire(): void;
}

/** The slot of entries scheduled while the core fires: never in the heap, they enter real slots when it is done. */
const DEFERRED = new TimerSlot(Number.NaN);

/** How long one wake may fire entries before yielding to the event loop, in ms. */
const SLICE_MS = 5;
/** The clock is read every 64 firings to check the slice: a read per firing would cost more than most firings. */
const SLICE_CHECK_MASK = 63;

type TimerHandle = ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate>;

/** Node's own `setTimeout`, as this module found it: fake timers installed later replace the global. */
const NODE_SET_TIMEOUT = globalThis.setTimeout;

/**
 * The scheduling core of every loop on the system clock: the due times of all sleeping loops, grouped by the
 * millisecond they become due ({@link TimerSlots}: a min-heap of slots, each a queue), behind one armed timer,
 * instead of a timer, a promise and a suspended async frame per sleeping loop.
 *
 * - **Never early.** Node timers can fire about 1 ms before their delay; a wake-up that finds the first slot not
 *   yet due re-arms for the rest (the re-arm guard), so an entry fires only once `Date.now() >= due`.
 * - **Bounded timers.** The timer is clamped to {@link MAX_TIMER_DELAY_MS}, so a due time weeks away is reached in
 *   chunks, each wake re-reading the clock.
 * - **Fair order.** Due entries fire in order of their millisecond, and within one millisecond in the order they
 *   were scheduled, in one timer callback, in slices of at most about 5 ms: when more are due, the rest fire on the
 *   next turn of the event loop (`setImmediate`). An entry rescheduled to a past time during a callback also waits
 *   for the next turn, so a catch-up burst yields between iterations as a zero-length sleep does (C18) and cannot
 *   starve the others.
 * - **Fake timers.** `Date.now`, `setTimeout` and `setImmediate` are read when called, never captured, so vitest's
 *   fake timers (installed before or after the core was first used) drive it; a timer armed under one
 *   implementation and found replaced is re-armed under the new one.
 *
 * @internal
 */
export class TimerCore {
	readonly #slots = new TimerSlots();
	/** The armed timer, and the millisecond it was armed for (`-Infinity` for an immediate). */
	#handle: TimerHandle | undefined;
	#armedFor = Number.POSITIVE_INFINITY;
	/** The `setTimeout` the handle came from: fake timers replace it, and their handles mean nothing to the real one. */
	#armedWith: unknown;
	#clear: ((handle: TimerHandle) => void) | undefined;
	/** Whether the core is inside its timer callback (firing, then re-arming). */
	#waking = false;
	/** The last Timeout armed, its delay and its implementation: re-armed with `refresh()` when the delay repeats. */
	#timeout: ReturnType<typeof setTimeout> | undefined;
	#timeoutMs = 0;
	#timeoutWith: unknown;
	/** Whether the core is firing due entries (inside its timer callback), and the `Date.now()` it fires up to. */
	#firing = false;
	#firingAt = Number.NEGATIVE_INFINITY;
	/**
	 * Entries scheduled while firing. They enter their slots when the wake ends, so an entry rescheduled into the past
	 * (a catch-up) neither fires twice in one wake nor goes in front of the others still due.
	 */
	readonly #deferred: Schedulable[] = [];
	/** The due times of `#deferred`, index for index. */
	readonly #deferredDue: number[] = [];
	readonly #onTimer = () => this.#wake();

	/** How many entries are scheduled (outside a wake). */
	get size(): number {
		return this.#slots.size;
	}

	/** Whether `entry` is scheduled. */
	has(entry: Schedulable): boolean {
		return entry.slot !== undefined;
	}

	/** Schedules `entry` to fire at `due` (ms since the epoch), moving it if it was already scheduled. */
	schedule(entry: Schedulable, due: number): void {
		if (entry.slot !== undefined && entry.slot !== DEFERRED) this.#slots.remove(entry);
		// While firing, an entry due later than this wake's `now` goes straight to its slot (this wake cannot reach it);
		// one due by then waits for the end of the wake.
		if (this.#firing && Math.ceil(due) <= this.#firingAt) {
			if (entry.slot === DEFERRED) this.#deferredDue[this.#deferred.indexOf(entry)] = due;
			else {
				this.#deferred.push(entry);
				this.#deferredDue.push(due);
			}
			entry.slot = DEFERRED;
			return;
		}
		if (entry.slot === DEFERRED) this.#cancelDeferred(entry);
		this.#slots.add(entry, due);
		if (!this.#firing && this.#slots.first === entry.slot) this.#arm();
	}

	/** Removes `entry` if it is scheduled; the timer is cleared once nothing is left. */
	cancel(entry: Schedulable): void {
		if (entry.slot === undefined) return;
		if (entry.slot === DEFERRED) {
			entry.slot = undefined; // left in #deferred, skipped when the wake ends
			return;
		}
		this.#slots.remove(entry);
		// A timer armed for an earlier slot than the new first one only wakes early and re-arms; but with nothing
		// left, no timer may stay (it would keep the process alive, and tests count timers).
		if (this.#slots.size === 0 && !this.#firing) this.#disarm();
	}

	#wake(): void {
		this.#waking = true;
		this.#handle = undefined;
		this.#armedFor = Number.POSITIVE_INFINITY;
		const now = Date.now();
		this.#firing = true;
		this.#firingAt = now;
		let fired = 0;
		try {
			for (let slot = this.#slots.first; slot !== undefined && slot.at <= now; slot = this.#slots.first) {
				// A slice at a time: when thousands of entries are due at once (loops on the same grid, or all started
				// together), the rest fire on the next turn, so I/O and other timers get in between.
				if ((++fired & SLICE_CHECK_MASK) === 0 && Date.now() - now >= SLICE_MS) break;
				const entry = slot.first as Schedulable;
				this.#slots.remove(entry);
				try {
					entry.fire();
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
			this.#waking = false;
		}
	}

	/** Takes a deferred entry out of `#deferred` (it is being scheduled for later than this wake after all). */
	#cancelDeferred(entry: Schedulable): void {
		const index = this.#deferred.indexOf(entry);
		this.#deferred.splice(index, 1);
		this.#deferredDue.splice(index, 1);
		entry.slot = undefined;
	}

	#admitDeferred(): void {
		const deferred = this.#deferred;
		for (let i = 0; i < deferred.length; i++) {
			const entry = deferred[i] as Schedulable;
			if (entry.slot !== DEFERRED) continue; // cancelled meanwhile
			entry.slot = undefined;
			this.#slots.add(entry, this.#deferredDue[i] as number);
		}
		deferred.length = 0;
		this.#deferredDue.length = 0;
	}

	/** Arms the timer for the first slot, unless a timer that fires no later is already armed. */
	#arm(): void {
		const first = this.#slots.first;
		if (!first) {
			this.#disarm();
			return;
		}
		// Fake timers installed or removed since the timer was armed: it may never fire; arm under the current ones.
		if (this.#handle !== undefined && this.#armedWith !== globalThis.setTimeout) this.#disarm();
		if (this.#handle !== undefined && this.#armedFor <= first.at) return;
		this.#disarm();
		const delay = first.at - Date.now();
		this.#armedWith = globalThis.setTimeout;
		if (delay <= 0) {
			// setTimeout(fn, 0) waits at least 1 ms in Node; a due entry only has to wait for the next turn (C18).
			this.#handle = setImmediate(this.#onTimer);
			this.#clear = clearImmediate as (handle: TimerHandle) => void;
			this.#timeout = undefined; // the immediate's wake is not the Timeout's callback: it cannot be refreshed then
			this.#armedFor = Number.NEGATIVE_INFINITY;
		} else {
			const ms = Math.min(delay, MAX_TIMER_DELAY_MS);
			const reusable = this.#timeout;
			// Inside its own callback the Timeout that just fired can be re-armed with refresh(): no new Timeout, and no
			// new timer list in Node when the delay repeats (at 1,000 loops, a wake every millisecond or so). Outside
			// it, Node has already retired the Timeout (its keep-alive count dropped), so a new one is made.
			// Only Node's own Timeout: fake timers' handles (node:test's mock timers) do not re-arm on refresh().
			if (
				this.#waking &&
				reusable !== undefined &&
				this.#timeoutMs === ms &&
				this.#timeoutWith === globalThis.setTimeout &&
				globalThis.setTimeout === NODE_SET_TIMEOUT
			) {
				reusable.refresh();
				this.#handle = reusable;
			} else {
				this.#timeout = setTimeout(this.#onTimer, ms);
				this.#timeoutMs = ms;
				this.#timeoutWith = globalThis.setTimeout;
				this.#handle = this.#timeout;
			}
			this.#clear = clearTimeout as (handle: TimerHandle) => void;
			this.#armedFor = first.at;
		}
	}

	#disarm(): void {
		if (this.#handle === undefined) return;
		// The clear of the implementation that armed it, even if fake timers were swapped in or out meanwhile.
		this.#clear?.(this.#handle);
		this.#handle = undefined;
		this.#timeout = undefined; // a cleared Timeout cannot be refreshed
		this.#armedFor = Number.POSITIVE_INFINITY;
	}
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
