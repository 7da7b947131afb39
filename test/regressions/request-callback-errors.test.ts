/**
 * Regression (review of issue 14's forwarding path): a RequestSink (FlamingoClient.forward)
 * or a request's `onWritten` is user code that correlation calls synchronously, from the
 * reader, from another request's settling or from inside request(). One that threw
 * unwound its caller: the rest of a chunk was lost (a reply after it never reached its
 * request), a request whose reply started the throwing one's write never settled, and
 * request() threw instead of returning its promise. The rule (docs/ARCHITECTURE.md, rule 3):
 * the exception is reported ('error' when someone listens), nothing is unwound.
 */
import { describe, expect, it } from 'vitest';
import { Command, FlamingoClient, STATUS_OK, encodePacket, type Packet, type PendingRequest, type RequestSink } from 'flamingo-protocol';
import { cleanedUpAfterEach } from '../support/cleanups.js';
import { FakeServer } from '../support/fake-server.js';
import { forwardable as decoded } from '../support/forward.js';

const cleanups = cleanedUpAfterEach();

async function start(options: { maxInFlight?: number } = {}): Promise<{ client: FlamingoClient; server: FakeServer; errors: unknown[] }> {
  const server = new FakeServer({ echoSequence: true });
  const client = await FlamingoClient.connect({ mode: 'sequenced', transport: () => server.connectMemory(), requestTimeoutMs: 5000, ...options });
  // Run newest first: the client closes before its server.
  cleanups.push(
    () => server.close(),
    () => client.close(),
  );
  const errors: unknown[] = [];
  client.on('error', (error) => errors.push(error));
  return { client, server, errors };
}

/** Rejects when `promise` has not settled within `ms` (a request that never settles fails the test instead of hanging it). */
function within<T>(promise: Promise<T>, ms = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A sink that records its calls, throws `boom` from the method named `throwing`, and resolves `settled` on replied/failed. */
function throwingSink(throwing: keyof RequestSink, boom: Error): { sink: RequestSink; calls: string[]; settled: Promise<void> } {
  const calls: string[] = [];
  let done!: () => void;
  const settled = new Promise<void>((resolve) => {
    done = resolve;
  });
  const call = (name: keyof RequestSink, request: PendingRequest): void => {
    calls.push(`${name} ${request.name}`);
    if (name !== 'written') done();
    if (name === throwing) throw boom;
  };
  return {
    calls,
    settled,
    sink: { written: (r) => call('written', r), replied: (r) => call('replied', r), failed: (r) => call('failed', r) },
  };
}

describe('regressions: a throwing request callback unwinds nothing', () => {
  it("a sink whose replied() throws: the reply after it in the same chunk still reaches its request, the event after both its listener; the error goes to 'error'", async () => {
    const { client, server, errors } = await start();
    const held: Packet[] = [];
    server.handler = (packet, connection) => {
      held.push(packet);
      if (held.length < 2) return;
      // Both replies and an event in ONE chunk: the forwarded request's reply first.
      const stopped = encodePacket({ code: Command.STAGE_MOTION_STOPPED, int32Data0: 2, value: 1.5 });
      connection.write(...held.map((p) => connection.reply(p)), stopped);
    };
    const boom = new Error('sink bug');
    const events: number[] = [];
    client.on('STAGE_MOTION_STOPPED', (p) => events.push(p.int32Data0));
    const { packet, header } = decoded({ code: Command.SYSTEM_STATE_GET, clientId: 9 });
    const forwarded = throwingSink('replied', boom);
    client.forward(packet, header, forwarded.sink);
    const reply = await within(client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 }));
    expect([reply.code, reply.status, reply.int32Data0]).toEqual([Command.STAGE_POSITION_GET, STATUS_OK, 1]);
    await within(forwarded.settled);
    expect(forwarded.calls).toEqual(['written SYSTEM_STATE_GET', 'replied SYSTEM_STATE_GET']);
    expect(events).toEqual([2]);
    await expect.poll(() => errors).toEqual([boom]);
    expect(client.pendingCount).toBe(0);
  });

  it('a sink whose written() throws when another reply frees its slot: the request that freed it still settles, and so does the forwarded one', async () => {
    const { client, errors } = await start({ maxInFlight: 1 });
    const first = client.request(Command.STAGE_POSITION_GET, { int32Data0: 3 });
    const boom = new Error('sink bug');
    const { packet, header } = decoded({ code: Command.SYSTEM_STATE_GET, clientId: 4 });
    const forwarded = throwingSink('written', boom);
    // Waits for the one slot: first's reply starts it, from inside first's settling.
    const request = client.forward(packet, header, forwarded.sink);
    expect(request.written).toBe(false);
    const reply = await within(first);
    expect([reply.code, reply.int32Data0]).toEqual([Command.STAGE_POSITION_GET, 3]);
    await within(forwarded.settled);
    expect(forwarded.calls).toEqual(['written SYSTEM_STATE_GET', 'replied SYSTEM_STATE_GET']);
    expect(request.outcome).toBe('reply');
    await expect.poll(() => errors).toEqual([boom]);
    expect(client.pendingCount).toBe(0);
  });

  it('a sink whose failed() throws on a refusal: forward() still returns the refused request', async () => {
    const { client, errors } = await start();
    const boom = new Error('sink bug');
    const { packet, header } = decoded({ code: Command.LASER_ALL_DISABLE });
    const refused = throwingSink('failed', boom);
    const request = client.forward(packet, header, refused.sink);
    expect([request.settled, request.outcome]).toEqual([true, 'failed']);
    expect(refused.calls).toEqual(['failed LASER_ALL_DISABLE']);
    await expect.poll(() => errors).toEqual([boom]);
  });

  it("an onWritten that throws: request() still returns its promise, which resolves with the reply (with a reply timer); the error goes to 'error'", async () => {
    const { client, errors } = await start();
    const boom = new Error('onWritten bug');
    let pending: Promise<Packet> | undefined;
    expect(() => {
      pending = client.request(
        Command.SYSTEM_STATE_GET,
        {},
        {
          onWritten: () => {
            throw boom;
          },
        },
      );
    }).not.toThrow();
    const reply = await within(pending as Promise<Packet>);
    expect([reply.code, reply.status]).toEqual([Command.SYSTEM_STATE_GET, STATUS_OK]);
    await expect.poll(() => errors).toEqual([boom]);
    expect(client.pendingCount).toBe(0);
  });
});
