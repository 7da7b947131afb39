/**
 * "At most one per interval, and never lose the last": the first item goes out at once,
 * later ones within the interval replace each other, and the latest goes out when the
 * interval ends (with how many it stood for). Used for gauge floods and state snapshots.
 * Constant memory: one pending item.
 */
export class LatestPerInterval<T> {
  private pending: { item: T; replaced: number } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly publish: (item: T, coalesced: number) => void,
  ) {}

  push(item: T): void {
    if (this.timer === null) {
      this.publish(item, 1);
      this.startWindow();
      return;
    }
    this.pending = { item, replaced: (this.pending?.replaced ?? 0) + 1 };
  }

  /** Drop anything pending and stop the timer. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }

  private startWindow(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      const p = this.pending;
      this.pending = null;
      if (p !== null) {
        this.publish(p.item, p.replaced);
        this.startWindow();
      }
    }, this.intervalMs);
    this.timer.unref?.();
  }
}
