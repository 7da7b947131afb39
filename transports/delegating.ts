import type { Transport, TransportHandler } from './transport.js';

/**
 * A Transport that forwards every call to `inner`. Extend it and override only what a
 * wrapper changes (a tap that records or delays writes, a logger), instead of restating
 * the forwarding methods in every wrapper.
 */
export class DelegatingTransport implements Transport {
  constructor(readonly inner: Transport) {}

  get description(): string {
    return this.inner.description;
  }

  get isClosed(): boolean {
    return this.inner.isClosed;
  }

  attach(handler: TransportHandler): void {
    this.inner.attach(handler);
  }

  write(bytes: Uint8Array): boolean {
    return this.inner.write(bytes);
  }

  whenWritable(): Promise<void> {
    return this.inner.whenWritable();
  }

  pause(): void {
    this.inner.pause();
  }

  resume(): void {
    this.inner.resume();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  destroy(error?: Error): void {
    this.inner.destroy(error);
  }
}
