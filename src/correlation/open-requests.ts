import type { PendingRequest } from './pending.js';

/**
 * The client's requests not yet settled, for `close()` and a lost link to fail them all.
 *
 * Why not a Set: one request is added and deleted per round trip, and a hash set under that
 * churn rebuilds its table every few requests (an allocation each time, measured in the
 * gateway's heap profile, issue 14). Here a request remembers its slot: adding appends,
 * removing moves the last request into the freed slot. O(1), no allocation once the arrays
 * have grown to the largest number ever open.
 */
export class OpenRequests {
  private readonly items: PendingRequest[] = [];
  /** When each slot's request was added (a count), moved with it: snapshots are in that order. */
  private readonly added: number[] = [];
  private adds = 0;

  /** Requests open now. */
  get size(): number {
    return this.items.length;
  }

  /** Track `request` until it settles (it removes itself: PendingRequest.registry). */
  add(request: PendingRequest): void {
    if (request.registry !== null) throw new Error(`${request.name} is tracked already`);
    request.registry = this;
    request.registrySlot = this.items.length;
    this.items.push(request);
    this.added.push(this.adds++);
  }

  /** Stop tracking `request`; false when this registry did not track it. */
  delete(request: PendingRequest): boolean {
    const slot = request.registrySlot;
    if (request.registry !== this || this.items[slot] !== request) return false;
    const last = this.items.pop() as PendingRequest;
    const lastAdded = this.added.pop() as number;
    if (last !== request) {
      this.items[slot] = last;
      this.added[slot] = lastAdded;
      last.registrySlot = slot;
    }
    request.registry = null;
    request.registrySlot = -1;
    return true;
  }

  /**
   * A copy of the open requests in the order they were added: `close()` and a lost link
   * fail them in the order they were made (the gateway's failure replies to one app then
   * follow its requests). Sorted here, on the rare path, not kept sorted on every removal.
   */
  snapshot(): PendingRequest[] {
    const slots = this.items.map((_, slot) => slot);
    slots.sort((a, b) => (this.added[a] as number) - (this.added[b] as number));
    return slots.map((slot) => this.items[slot] as PendingRequest);
  }
}
