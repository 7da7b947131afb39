import { describe, expect, it } from 'vitest';
import { Command, ConnectionClosedError, FlamingoClient, type Packet, backoffDelay, reconnectPolicy } from 'flamingo-protocol';
import { FakeServer } from '../support/fake-server.js';
import { outcome, type Mode } from '../support/client-harness.js';

function events(client: FlamingoClient): string[] {
  const log: string[] = [];
  client.on('disconnect', () => log.push('disconnect'));
  client.on('reconnecting', (i) => log.push(`reconnecting ${i.attempt}`));
  client.on('reconnected', (i) => log.push(`reconnected ${i.attempt}`));
  client.on('close', () => log.push('close'));
  return log;
}

describe.each(['sequenced', 'lease'] as Mode[])('reconnect, %s mode', (mode) => {
  it('rejects the request on the wire with maybeExecuted, never replays it, queues requests made while down', async () => {
    const server = new FakeServer({ echoSequence: mode === 'sequenced' });
    const client = await FlamingoClient.connect({
      transport: () => server.connectMemory(),
      reconnect: { initialDelayMs: 1, maxDelayMs: 5 },
    });
    try {
      expect(client.mode).toBe(mode);
      const log = events(client);
      server.handler = (p, c) => {
        if (p.code === Command.STAGE_POSITION_SET) return; // never answered: the link drops first
        server.autoReply(p, c, { value: 4 });
      };
      const move = outcome(client.request(Command.STAGE_POSITION_SET, { int32Data0: 1, value: 3 }));
      await server.waitForPackets(2);
      const down = new Promise<void>((resolve) => client.once('disconnect', () => resolve()));
      server.connection.drop();
      await down;
      const whileDown = client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 });
      const result = await move;
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error).toBeInstanceOf(ConnectionClosedError);
        expect((result.error as ConnectionClosedError).maybeExecuted).toBe(true);
      }
      expect((await whileDown).value).toBe(4);
      expect(log).toEqual(['disconnect', 'reconnecting 1', 'reconnected 1']);
      expect(server.connections.length).toBe(2);
      // The move went out once, on the first connection, and was never replayed on the
      // second (which carries the queued GET, and the state mirror's refresh reads).
      expect(server.received.filter((p) => p.code === Command.STAGE_POSITION_SET).length).toBe(1);
      const second = server.connections[1]?.received ?? [];
      expect(second.some((p: Packet) => p.code === Command.STAGE_POSITION_SET)).toBe(false);
      expect(second[0]?.code).toBe(Command.STAGE_POSITION_GET);
      expect(client.isClosed).toBe(false);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('reconnect policy', () => {
  it("whileDown 'fail' rejects requests at once while the link is down", async () => {
    const server = new FakeServer();
    let attempts = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const client = await FlamingoClient.connect({
      transport: async () => {
        if (attempts++ > 0) await gate;
        return server.connectMemory();
      },
      reconnect: { initialDelayMs: 1, whileDown: 'fail' },
    });
    try {
      const down = new Promise<void>((resolve) => client.once('disconnect', () => resolve()));
      server.connection.drop();
      await down;
      const result = await outcome(client.request(Command.SYSTEM_STATE_GET));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.message).toBe('SYSTEM_STATE_GET was not sent: the connection is down');
        expect((result.error as ConnectionClosedError).maybeExecuted).toBe(false);
      }
      const up = new Promise<void>((resolve) => client.once('reconnected', () => resolve()));
      release();
      await up;
      expect((await client.request(Command.SYSTEM_STATE_GET)).code).toBe(Command.SYSTEM_STATE_GET);
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('gives up after maxAttempts, rejects what waited, and emits close once', async () => {
    const server = new FakeServer();
    const port = await server.listen();
    const client = await FlamingoClient.connect({ port, reconnect: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 3 }, connectTimeoutMs: 500 });
    const log = events(client);
    const closed = new Promise<Error | undefined>((resolve) => client.once('close', resolve));
    const down = new Promise<void>((resolve) => client.once('disconnect', () => resolve()));
    await server.close(); // destroys the connection and stops listening: every attempt is refused
    await down;
    const waiting = outcome(client.request(Command.SYSTEM_STATE_GET));
    const error = await closed;
    expect(error?.message).toBe('gave up reconnecting after 3 attempts');
    const result = await waiting;
    expect(result.ok).toBe(false);
    if (!result.ok) expect((result.error as ConnectionClosedError).maybeExecuted).toBe(false);
    expect(log).toEqual(['disconnect', 'reconnecting 1', 'reconnecting 2', 'reconnecting 3', 'close']);
    await client.close();
    expect(log.filter((l) => l === 'close').length).toBe(1);
  });

  it('backoff doubles, is capped, and keeps half of the delay fixed', () => {
    const policy = reconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000 });
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(policy, a, () => 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(policy, a, () => 0.999999))).toEqual([100, 200, 400, 800, 1000]);
    expect(() => reconnectPolicy({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(RangeError);
    expect(() => reconnectPolicy({ maxAttempts: 0 })).toThrow(RangeError);
  });

  it('without reconnect a lost link closes the client with the cause', async () => {
    const server = new FakeServer();
    const client = await FlamingoClient.connect({ transport: server.connectMemory() });
    const log = events(client);
    const closed = new Promise<Error | undefined>((resolve) => client.once('close', resolve));
    server.connection.drop();
    const error = await closed;
    expect(error?.message).toContain('connection reset by peer');
    expect(log).toEqual(['disconnect', 'close']);
    await client.close();
    await server.close();
  });
});
