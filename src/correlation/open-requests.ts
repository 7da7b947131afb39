import type { PendingRequest } from './pending.js';

/**
 * The client's requests not yet settled, for `close()` and a lost link to fail them all.
 *
 * Why not a Set: one request is added and deleted per round trip, and a hash set under that
 * churn rebuilds its table every few requests (an allocation each time, measured in the
 * gateway's heap profile, issue 14). Here a request remembers its slot: adding appends,
 * removing moves the last request into the freed slot. O(1), no allocation once the array
 * has grown to the largest number ever open.
 */
export class OpenRequests {
  private readonly items: PendingRequest[] = [];

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
  }

  /** Stop tracking `request`; false when this registry did not track it. */
  delete(request: PendingRequest): boolean {
    const slot = request.registrySlot;
    if (request.registry !== this || this.items[slot] !== request) return false;
    const last = this.items.pop() as PendingRequest;
    if (last !== request) {
      this.items[slot] = last;
      last.registrySlot = slot;
    }
    request.registry = null;
    request.registrySlot = -1;
    return true;
  }

  /** A copy of the open requests, oldest first except where a removal moved one (order is not kept). */
  snapshot(): PendingRequest[] {
    return [...this.items];
  }
}
