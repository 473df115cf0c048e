/**
 * What a {@link TimerSlots} queue holds: an entry with the links of its slot's queue. (Its due time is not kept:
 * the slot's millisecond is all that decides when it fires, and a sleeping loop holds one number less.)
 * @internal
 */
export interface SlottedEntry {
	/** The slot it waits in; `undefined` while in none. */
	slot: TimerSlot | undefined;
	previous: SlottedEntry | undefined;
	next: SlottedEntry | undefined;
}

/**
 * The entries due in one millisecond, first scheduled first. `Date.now()` counts whole milliseconds, so every entry
 * of a slot becomes due at the same instant, `at`: the ceiling of its due time.
 * @internal
 */
export class TimerSlot {
	readonly at: number;
	first: SlottedEntry | undefined = undefined;
	last: SlottedEntry | undefined = undefined;
	/** Position in the heap of slots. */
	index = -1;

	constructor(at: number) {
		this.at = at;
	}
}

/**
 * Entries grouped by the millisecond they become due: a min-heap of slots, each a queue. A firing costs a queue
 * operation and a map lookup, whatever the number of entries; the heap only orders the distinct milliseconds
 * (at most one interval's worth for loops on one grid). This is what makes 100,000 loops cost per firing about what
 * 1,000 do.
 * @internal
 */
export class TimerSlots {
	readonly #byAt = new Map<number, TimerSlot>();
	readonly #heap: TimerSlot[] = [];
	#size = 0;

	/** How many entries are queued. */
	get size(): number {
		return this.#size;
	}

	/** The slot due first, if any. */
	get first(): TimerSlot | undefined {
		return this.#heap[0];
	}

	/** Queues `entry` (not in any slot) at the end of the slot of `due` (ms since the epoch). */
	add(entry: SlottedEntry, due: number): void {
		const at = Math.ceil(due);
		let slot = this.#byAt.get(at);
		if (!slot) {
			slot = new TimerSlot(at);
			this.#byAt.set(at, slot);
			this.#heap.push(slot);
			this.#siftUp(this.#heap.length - 1);
		}
		entry.slot = slot;
		entry.previous = slot.last;
		entry.next = undefined;
		if (slot.last) slot.last.next = entry;
		else slot.first = entry;
		slot.last = entry;
		this.#size += 1;
	}

	/** Takes `entry` out of its slot; a slot left empty leaves the heap. */
	remove(entry: SlottedEntry): void {
		const slot = entry.slot as TimerSlot;
		if (entry.previous) entry.previous.next = entry.next;
		else slot.first = entry.next;
		if (entry.next) entry.next.previous = entry.previous;
		else slot.last = entry.previous;
		entry.slot = undefined;
		entry.previous = undefined;
		entry.next = undefined;
		this.#size -= 1;
		if (slot.first === undefined) this.#drop(slot);
	}

	#drop(slot: TimerSlot): void {
		this.#byAt.delete(slot.at);
		const heap = this.#heap;
		const last = heap.pop() as TimerSlot;
		if (last !== slot) {
			this.#place(last, slot.index);
			this.#siftUp(last.index);
			this.#siftDown(last.index);
		}
		slot.index = -1;
	}

	#siftUp(index: number): void {
		const heap = this.#heap;
		const slot = heap[index] as TimerSlot;
		while (index > 0) {
			const parentIndex = (index - 1) >> 1;
			const parent = heap[parentIndex] as TimerSlot;
			if (parent.at <= slot.at) break;
			this.#place(parent, index);
			index = parentIndex;
		}
		this.#place(slot, index);
	}

	#siftDown(index: number): void {
		const heap = this.#heap;
		const length = heap.length;
		const slot = heap[index] as TimerSlot;
		for (;;) {
			const left = 2 * index + 1;
			if (left >= length) break;
			const right = left + 1;
			let child = left;
			if (right < length && (heap[right] as TimerSlot).at < (heap[left] as TimerSlot).at) child = right;
			const earlier = heap[child] as TimerSlot;
			if (earlier.at >= slot.at) break;
			this.#place(earlier, index);
			index = child;
		}
		this.#place(slot, index);
	}

	/** Puts `slot` at `index` of the heap; every move goes through here, so `slot.index` is always its position. */
	#place(slot: TimerSlot, index: number): void {
		this.#heap[index] = slot;
		slot.index = index;
	}
}
