import { afterEach, describe, expect, it } from 'vitest';
import { ConnectError, TcpTransport, TransportClosedError, connectTcp, listenTcp, type TcpListener } from 'flamingo-protocol';
import { turns, until } from '../support/wait.js';

let listener: TcpListener | null = null;
const open: TcpTransport[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) t.destroy();
  await listener?.close();
  listener = null;
});

function collect(t: TcpTransport, keep = true): { bytes: number[]; count: () => number; closed: Promise<Error | undefined> } {
  const bytes: number[] = [];
  let count = 0;
  let done: (e: Error | undefined) => void = () => undefined;
  const closed = new Promise<Error | undefined>((resolve) => (done = resolve));
  t.attach({
    data: (c) => {
      count += c.length;
      if (keep) bytes.push(...c);
    },
    close: (e) => done(e),
  });
  return { bytes, count: () => count, closed };
}

async function pair(): Promise<{ client: TcpTransport; server: TcpTransport }> {
  let accept: (t: TcpTransport) => void = () => undefined;
  const accepted = new Promise<TcpTransport>((resolve) => (accept = resolve));
  listener = await listenTcp({ host: '127.0.0.1', port: 0 }, (t) => accept(t));
  const client = await connectTcp({ host: '127.0.0.1', port: listener.port });
  const server = await accepted;
  open.push(client, server);
  return { client, server };
}

describe('tcp transport', () => {
  it('carries bytes both ways, in order, including a burst of writes made in one tick', async () => {
    const { client, server } = await pair();
    expect(client.description).toBe(`127.0.0.1:${listener?.port}`);
    const atServer = collect(server);
    const atClient = collect(client);
    const writes = Array.from({ length: 200 }, (_, i) => client.write(Uint8Array.of(i & 0xff, (i >> 8) & 0xff)));
    await Promise.all(writes);
    await server.write(Uint8Array.of(7, 8, 9));
    await until(() => atServer.bytes.length === 400 && atClient.bytes.length === 3);
    expect(atServer.bytes).toEqual(Array.from({ length: 200 }, (_, i) => [i & 0xff, (i >> 8) & 0xff]).flat());
    expect(atClient.bytes).toEqual([7, 8, 9]);
  });

  it('connect errors name host:port', async () => {
    const l = await listenTcp({ host: '127.0.0.1', port: 0 }, () => undefined);
    const port = l.port;
    await l.close();
    const error = await connectTcp({ host: '127.0.0.1', port }).then(
      () => null,
      (e: unknown) => e as ConnectError,
    );
    expect(error).toBeInstanceOf(ConnectError);
    expect(error?.message).toBe(`cannot connect to 127.0.0.1:${port}: connection refused`);
    expect(error?.code).toBe('ECONNREFUSED');
  });

  it('an aborted connect rejects with ABORTED', async () => {
    const error = await connectTcp({ host: '127.0.0.1', port: 1, signal: AbortSignal.abort() }).then(
      () => null,
      (e: unknown) => e as ConnectError,
    );
    expect(error?.code).toBe('ABORTED');
  });

  it('close ends cleanly on both sides; writes after close reject', async () => {
    const { client, server } = await pair();
    const atServer = collect(server);
    const atClient = collect(client);
    await client.write(Uint8Array.of(1, 2));
    await client.close();
    expect(await atClient.closed).toBeUndefined();
    expect(await atServer.closed).toBeUndefined();
    expect(atServer.bytes).toEqual([1, 2]);
    await expect(client.write(Uint8Array.of(3))).rejects.toBeInstanceOf(TransportClosedError);
  });

  it('destroy closes the peer too', async () => {
    const { client, server } = await pair();
    const atServer = collect(server);
    collect(client);
    client.destroy();
    await atServer.closed;
    expect(server.isClosed).toBe(true);
  });

  it('honours backpressure: a write waits while the peer does not read, and completes once it does', async () => {
    const { client, server } = await pair();
    const atServer = collect(server, false);
    server.pause();
    const big = new Uint8Array(32 * 1024 * 1024);
    let accepted = false;
    const write = client.write(big).then(() => (accepted = true));
    // Bounded negative check: 32 MiB cannot fit in the socket buffers, so the write stays pending.
    await turns(5);
    expect(accepted).toBe(false);
    server.resume();
    await write;
    await until(() => atServer.count() === big.length);
    expect(accepted).toBe(true);
  });

  it('writers that pile up on a full socket share one drain listener, and all complete', async () => {
    const { client, server } = await pair();
    const atServer = collect(server, false);
    server.pause();
    const chunk = new Uint8Array(4 * 1024 * 1024);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) writes.push(client.write(chunk));
    // Regression: each waiting write used to add its own 'drain' and 'close' listener.
    expect(client.socket.listenerCount('drain')).toBe(1);
    server.resume();
    await Promise.all(writes);
    await until(() => atServer.count() === 40 * chunk.length);
    expect(client.socket.listenerCount('drain')).toBe(0);
  });
});
