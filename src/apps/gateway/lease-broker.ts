import type { ExclusiveTx, FlamingoClient } from '../../client/client.js';

/** Anything that can hold the lease (a downstream session). */
export type LeaseHolder = object;

interface Ticket {
  holder: LeaseHolder;
  resolve: (granted: boolean) => void;
  cancelled: boolean;
}

/**
 * The exclusive lease carried across the gateway's clients: one downstream holder at a
 * time, mapped onto the upstream client's `exclusive()` section. While a holder has it,
 * its commands go through the section's `tx` and everybody else's wait at the upstream
 * client's gate. Waiting holders are served in order (the upstream queue is FIFO).
 */
export class LeaseBroker {
  private holderValue: LeaseHolder | null = null;
  private tx: ExclusiveTx | null = null;
  private releaseSection: (() => void) | null = null;
  private readonly waiting = new Map<LeaseHolder, Ticket>();

  constructor(private readonly upstream: FlamingoClient) {}

  /** Who holds the lease now. */
  get holder(): LeaseHolder | null {
    return this.holderValue;
  }

  /** Holders waiting for the lease. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /** The section's tx when `holder` holds the lease, else null (use the client). */
  txFor(holder: LeaseHolder): ExclusiveTx | null {
    return this.holderValue === holder ? this.tx : null;
  }

  /** Is `holder` waiting for the lease? */
  isWaiting(holder: LeaseHolder): boolean {
    return this.waiting.has(holder);
  }

  /**
   * Resolves true once `holder` holds the lease (at once if it already does), false when
   * the wait was cancelled or the upstream client is closed.
   */
  acquire(holder: LeaseHolder): Promise<boolean> {
    if (this.holderValue === holder) return Promise.resolve(true);
    const pending = this.waiting.get(holder);
    if (pending !== undefined) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const ticket: Ticket = { holder, resolve, cancelled: false };
      this.waiting.set(holder, ticket);
      this.upstream
        .exclusive(
          (tx) =>
            new Promise<void>((release) => {
              if (ticket.cancelled) {
                release();
                return;
              }
              this.waiting.delete(holder);
              this.holderValue = holder;
              this.tx = tx;
              this.releaseSection = release;
              resolve(true);
            }),
        )
        .catch(() => {
          // The upstream client is closed: the section never ran (or its link is gone for good).
          if (this.waiting.get(holder) === ticket) this.waiting.delete(holder);
          if (this.holderValue === holder) this.clearHolder();
          resolve(false);
        });
    });
  }

  /**
   * Give the lease back, or stop waiting for it (the pending acquire resolves false).
   * Returns true when `holder` held it or waited for it.
   */
  release(holder: LeaseHolder): boolean {
    const ticket = this.waiting.get(holder);
    if (ticket !== undefined) {
      ticket.cancelled = true;
      this.waiting.delete(holder);
      ticket.resolve(false);
      return true;
    }
    if (this.holderValue !== holder) return false;
    const release = this.releaseSection;
    this.clearHolder();
    release?.();
    return true;
  }

  private clearHolder(): void {
    this.holderValue = null;
    this.tx = null;
    this.releaseSection = null;
  }
}
