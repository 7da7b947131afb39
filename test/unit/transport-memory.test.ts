import { describe, expect, it } from 'vitest';
import { DelegatingTransport, TransportClosedError, createMemoryPair, type Transport } from 'flamingo-protocol';
import { turns, until } from '../support/wait.js';

function reader(t: Transport): { chunks: Uint8Array[]; closed: Promise<Error | undefined>; bytes(): number[] } {
  const chunks: Uint8Array[] = [];
  let onClose: (e: Error | undefined) => void = () => undefined;
  const closed = new Promise<Error | undefined>((resolve) => (onClose = resolve));
  t.attach({ data: (c) => chunks.push(c), close: (e) => onClose(e) });
  return { chunks, closed, bytes: () => chunks.flatMap((c) => Array.from(c)) };
}

describe('memory transport', () => {
  it('delivers every byte in order, cut into seeded fragments of at most fragmentMaxBytes', async () => {
    const [a, b] = createMemoryPair({ fragmentMaxBytes: 5, seed: 42 });
    const r = reader(b);
    const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    await a.write(data.subarray(0, 100));
    await a.write(data.subarray(100));
    await until(() => r.bytes().length === 300);
    expect(r.bytes()).toEqual(Array.from(data));
    expect(r.chunks.every((c) => c.length >= 1 && c.length <= 5)).toBe(true);
    expect(r.chunks.length).toBeGreaterThan(60);
    a.destroy();
  });

  it('the same seed cuts the same way', async () => {
    const cuts = async () => {
      const [a, b] = createMemoryPair({ fragmentMaxBytes: 9, seed: 7 });
      const r = reader(b);
      await a.write(new Uint8Array(200));
      await until(() => r.bytes().length === 200);
      a.destroy();
      return r.chunks.map((c) => c.length);
    };
    expect(await cuts()).toEqual(await cuts());
  });

  it('delivers data that arrived before attach first, and allows one reader only', async () => {
    const [a, b] = createMemoryPair();
    await a.write(Uint8Array.of(1, 2, 3));
    // The write is already in b's inbox; one turn lets b's pump take it in while nobody reads.
    await turns(1);
    const r = reader(b);
    expect(r.bytes()).toEqual([1, 2, 3]);
    expect(() => b.attach({ data: () => undefined, close: () => undefined })).toThrow('one reader per connection');
    a.destroy();
  });

  it('copies on write: the caller may reuse its buffer', async () => {
    const [a, b] = createMemoryPair();
    const r = reader(b);
    const buf = Uint8Array.of(9, 9);
    await a.write(buf);
    buf.fill(0);
    await until(() => r.bytes().length === 2);
    expect(r.bytes()).toEqual([9, 9]);
    a.destroy();
  });

  it('close ends both sides once, after pending data; later writes reject', async () => {
    const [a, b] = createMemoryPair({ latencyMs: 1 });
    const ra = reader(a);
    const rb = reader(b);
    await a.write(Uint8Array.of(5));
    await a.close();
    expect(await rb.closed).toBeUndefined();
    expect(await ra.closed).toBeUndefined();
    expect(rb.bytes()).toEqual([5]);
    expect(a.isClosed && b.isClosed).toBe(true);
    await expect(a.write(Uint8Array.of(1))).rejects.toBeInstanceOf(TransportClosedError);
    await expect(b.write(Uint8Array.of(1))).rejects.toBeInstanceOf(TransportClosedError);
  });

  it('destroy resets the peer with an error', async () => {
    const [a, b] = createMemoryPair();
    reader(a);
    const rb = reader(b);
    a.destroy();
    const error = await rb.closed;
    expect(error?.message).toBe(`${b.description}: connection reset by peer`);
  });

  it('a paused reader backs the writer up past highWaterBytes; resume releases it', async () => {
    const [a, b] = createMemoryPair({ highWaterBytes: 1000 });
    const r = reader(b);
    b.pause();
    await a.write(new Uint8Array(600));
    let released = false;
    const blocked = a.write(new Uint8Array(600)).then(() => (released = true));
    // Bounded negative check: the blocked write stays blocked for a few turns.
    await turns(5);
    expect(released).toBe(false);
    expect(r.bytes().length).toBe(0);
    b.resume();
    await blocked;
    await until(() => r.bytes().length === 1200);
    expect(released).toBe(true);
    a.destroy();
  });

  it('a DelegatingTransport subclass changes only what it overrides; reads, close and state pass through', async () => {
    const [a, b] = createMemoryPair();
    const seen: number[] = [];
    class Counting extends DelegatingTransport {
      override write(bytes: Uint8Array): Promise<void> {
        seen.push(bytes.length);
        return super.write(bytes);
      }
    }
    const wrapped = new Counting(a);
    const atA = reader(wrapped);
    const atB = reader(b);
    await wrapped.write(Uint8Array.of(1, 2, 3));
    await b.write(Uint8Array.of(9));
    await until(() => atB.bytes().length === 3 && atA.bytes().length === 1);
    expect(seen).toEqual([3]);
    expect(atB.bytes()).toEqual([1, 2, 3]);
    expect(atA.bytes()).toEqual([9]);
    expect(wrapped.description).toBe(a.description);
    await wrapped.close();
    expect(wrapped.isClosed).toBe(true);
    expect(await atA.closed).toBeUndefined();
  });
});
