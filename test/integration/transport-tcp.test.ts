import { afterEach, describe, expect, it } from 'vitest';
import { ConnectError, type TcpTransport, TransportClosedError, connectTcp, listenTcp, type TcpListener } from 'flamingo-protocol';
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
    const answers = Array.from({ length: 200 }, (_, i) => client.write(Uint8Array.of(i & 0xff, (i >> 8) & 0xff)));
    expect(answers.every((a) => a)).toBe(true);
    await server.write(Uint8Array.of(7, 8, 9));
    await until(() => atServer.bytes.length === 400 && atClient.bytes.length === 3);
    expect(atServer.bytes).toEqual(Array.from({ length: 200 }, (_, i) => [i & 0xff, (i >> 8) & 0xff]).flat());
    expect(atClient.bytes).toEqual([7, 8, 9]);
  });

  it('writes the first write of a tick at once and gathers the later small ones into one socket write; a large write goes out whole after them, in order', async () => {
    const { client, server } = await pair();
    const atServer = collect(server);
    const socketWrites: number[] = [];
    const write = client.socket.write.bind(client.socket) as (bytes: Uint8Array) => boolean;
    client.socket.write = ((bytes: Uint8Array) => {
      socketWrites.push(bytes.length);
      return write(bytes);
    }) as typeof client.socket.write;
    const small = (n: number) => new Uint8Array(128).fill(n);
    const large = new Uint8Array(10_000).fill(0xee);
    for (const bytes of [small(1), small(2), small(3), large, small(4), small(5)]) expect(client.write(bytes)).toBe(true);
    // In this tick: the first write, then what was gathered before the large one, then the large one.
    expect(socketWrites).toEqual([128, 256, 10_000]);
    await until(() => atServer.bytes.length === 5 * 128 + 10_000);
    expect(socketWrites).toEqual([128, 256, 10_000, 256]);
    const expected = [...small(1), ...small(2), ...small(3), ...large, ...small(4), ...small(5)];
    expect(atServer.bytes).toEqual(expected);
  });

  it('bytes written in the tick of close() reach the peer before the FIN', async () => {
    const { client, server } = await pair();
    const atClient = collect(client);
    collect(server);
    server.write(Uint8Array.of(1, 2, 3));
    await server.close();
    expect(await atClient.closed).toBeUndefined();
    expect(atClient.bytes).toEqual([1, 2, 3]);
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
    expect(client.write(Uint8Array.of(1, 2))).toBe(true);
    await client.close();
    expect(await atClient.closed).toBeUndefined();
    expect(await atServer.closed).toBeUndefined();
    expect(atServer.bytes).toEqual([1, 2]);
    expect(() => client.write(Uint8Array.of(3))).toThrow(TransportClosedError);
    await expect(client.whenWritable()).rejects.toBeInstanceOf(TransportClosedError);
  });

  it('destroy closes the peer too', async () => {
    const { client, server } = await pair();
    const atServer = collect(server);
    collect(client);
    client.destroy();
    await atServer.closed;
    expect(server.isClosed).toBe(true);
  });

  it('honours backpressure: write answers false while the peer does not read, whenWritable resolves once it does, every byte arrives in order', async () => {
    const { client, server } = await pair();
    const received: Uint8Array[] = [];
    let count = 0;
    server.attach({
      data: (c) => {
        received.push(c);
        count += c.length;
      },
      close: () => undefined,
    });
    server.pause();
    const big = Uint8Array.from({ length: 32 * 1024 * 1024 }, (_, i) => (i * 31) & 0xff);
    // 32 MiB cannot fit in the socket buffers: the bytes are queued, the answer says "wait".
    expect(client.write(big)).toBe(false);
    let writable = false;
    const room = client.whenWritable().then(() => (writable = true));
    // Bounded negative check: the socket stays full while the peer does not read.
    await turns(5);
    expect(writable).toBe(false);
    server.resume();
    await room;
    expect(writable).toBe(true);
    await until(() => count === big.length, 10_000);
    expect(Buffer.compare(Buffer.concat(received), Buffer.from(big))).toBe(0);
    // Room again: at once.
    await client.whenWritable();
  });

  it('writers that pile up on a full socket share one drain listener, and all complete', async () => {
    const { client, server } = await pair();
    const atServer = collect(server, false);
    server.pause();
    const chunk = new Uint8Array(4 * 1024 * 1024);
    const answers: boolean[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      answers.push(client.write(chunk));
      waits.push(client.whenWritable());
    }
    expect(answers.every((a) => !a)).toBe(true);
    // Regression: each waiting write used to add its own 'drain' and 'close' listener.
    expect(client.socket.listenerCount('drain')).toBe(1);
    server.resume();
    await Promise.all(waits);
    await until(() => atServer.count() === 40 * chunk.length);
    expect(client.socket.listenerCount('drain')).toBe(0);
  });

  it('a writer waiting for room is rejected when the connection closes first', async () => {
    const { client, server } = await pair();
    collect(server, false);
    collect(client);
    server.pause();
    expect(client.write(new Uint8Array(32 * 1024 * 1024))).toBe(false);
    const room = client.whenWritable();
    server.destroy();
    await expect(room).rejects.toBeInstanceOf(TransportClosedError);
  });
});
