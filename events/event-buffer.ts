/**
 * Bounded FIFO of events waiting to be published. When full, the OLDEST event is dropped:
 * the newest events (notably `sweep.complete`, which ends every follower) matter most to a
 * subscriber, and a gap in `seq` tells it exactly what was lost. Pure: no I/O, no clock.
 */
export class BoundedEventBuffer<T> {
  private items: T[] = [];
  private head = 0;
  private droppedTotal = 0;

  /** @param capacity maximum number of buffered items (>= 1). */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`buffer capacity must be an integer >= 1, got ${capacity}`);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Items dropped because the buffer was full, since creation. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Append; returns the number of items dropped to make room (0 or 1). */
  push(item: T): number {
    let dropped = 0;
    if (this.size >= this.capacity) {
      this.head++;
      this.droppedTotal++;
      dropped = 1;
    }
    this.items.push(item);
    this.compact();
    return dropped;
  }

  /**
   * Put an item taken with shift() back at the front (its publish failed). If the buffer filled
   * up meanwhile, that item is the oldest and is the one dropped; returns 0 or 1 dropped.
   */
  unshift(item: T): number {
    if (this.size >= this.capacity) {
      this.droppedTotal++;
      return 1;
    }
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
    return 0;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head++];
    this.compact();
    return item;
  }

  /** Remove everything; returns how many items were removed. */
  clear(): number {
    const n = this.size;
    this.items = [];
    this.head = 0;
    return n;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
