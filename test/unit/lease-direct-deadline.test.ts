import { describe, expect, it } from 'vitest';
import { QueueTimeoutError, type PendingRequest } from 'flamingo-protocol';
import { pendingRequest } from '../support/pending-request.js';
import { Lease } from '../../src/correlation/lease.js';
import { queueDeadlines } from '../../src/correlation/deadlines.js';
import type { Wire, WriteResult } from '../../src/correlation/wire.js';

function request(): PendingRequest {
  return pendingRequest({ timeoutMs: 10_000 });
}

function lease(write: () => WriteResult): { lease: Lease; written: number[] } {
  const written: number[] = [];
  const wire: Wire = {
    up: true,
    gateClosed: false,
    write: (bytes) => {
      written.push(bytes.length);
      return write();
    },
    whenUp: () => Promise.resolve(true),
  };
  return { lease: new Lease({ wire, fenceTimeoutMs: 1000, maxQueued: 8, queueTimeoutMs: 30, onUnresponsive: () => undefined }), written };
}

describe('Lease: the queue deadline of a request written while the lease is idle (issue 14)', () => {
  it('is not armed when the transport takes the request at once: it never waited', () => {
    const { lease: l, written } = lease(() => true);
    const before = queueDeadlines.size;
    const r = request();
    l.submit(r);
    expect([written, r.written, r.queuedAt, queueDeadlines.size - before]).toEqual([[128], true, 0, 0]);
    r.fail(new Error('done'));
    r.promise.catch(() => undefined);
  });

  it('is armed when the transport has not taken it yet, and fails it with QueueTimeoutError when it never does', async () => {
    const { lease: l, written } = lease(() => new Promise<void>(() => undefined));
    const r = request();
    l.submit(r);
    expect([written, r.written, r.queuedAt > 0]).toEqual([[128], false, true]);
    await expect(r.promise).rejects.toBeInstanceOf(QueueTimeoutError);
    expect(r.outcome).toBe('failed');
  });
});
