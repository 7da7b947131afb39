/**
 * Regressions of issue 18 ("hardening against hostile use"), client, codec and selector
 * part: each test is named after the defect it reproduces and failed before its fix.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  ArgumentError,
  Command,
  ConnectionClosedError,
  createMemoryPair,
  encodePacket,
  FlamingoClient,
  type ClientOptions,
} from 'flamingo-protocol';
import { SimulatedMicroscope } from 'flamingo-protocol/sim';
import { DeadlineTimer } from '../../src/correlation/deadlines.js';
import { FakeServer } from '../support/fake-server.js';
import { outcome } from '../support/client-harness.js';

const MODES = ['sequenced', 'lease'] as const;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  vi.restoreAllMocks();
});

async function fakeClient(mode: 'sequenced' | 'lease', options: ClientOptions = {}): Promise<{ client: FlamingoClient; server: FakeServer }> {
  const server = new FakeServer({ echoSequence: mode === 'sequenced' });
  const client = await FlamingoClient.connect({ mode, transport: () => server.connectMemory(), ...options });
  cleanups.push(
    () => server.close(),
    () => client.close(),
  );
  return { client, server };
}

async function simClient(mode: 'sequenced' | 'lease'): Promise<{ client: FlamingoClient; sim: SimulatedMicroscope }> {
  const sim = new SimulatedMicroscope({ echoSequence: mode === 'sequenced', timeScale: 1000 });
  const client = await FlamingoClient.connect({
    mode,
    transport: () => {
      const [clientEnd, simEnd] = createMemoryPair();
      sim.attach(simEnd);
      return clientEnd;
    },
  });
  cleanups.push(
    () => sim.close(),
    () => client.close(),
  );
  return { client, sim };
}

/** Settles within `ms` or reports a hang (a guard against a deadlock, not a synchronisation sleep). */
function within<T>(promise: Promise<T>, ms = 3000): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung: not settled within ${ms} ms`)), ms);
  });
  return outcome(Promise.race([promise, hang])).finally(() => clearTimeout(timer));
}

describe('issue 18 defect 3: timeouts above 2^31-1 ms, and negative or NaN connect timeouts', () => {
  it.each(MODES)('%s: a request timeout of 2^31 ms or 1e12 ms is an ArgumentError, not a TIMEOUT after a few ms', async (mode) => {
    const { client, server } = await fakeClient(mode);
    const before = server.received.length;
    for (const timeoutMs of [2 ** 31, 1e12, Infinity]) {
      const result = await outcome(client.request(Command.SYSTEM_STATE_GET, {}, { timeoutMs }));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error).toBeInstanceOf(ArgumentError);
    }
    expect(server.received.length).toBe(before);
    // The largest valid timer is accepted and the request is answered normally.
    const reply = await client.request(Command.SYSTEM_STATE_GET, {}, { timeoutMs: 2 ** 31 - 1 });
    expect(reply.code).toBe(Command.SYSTEM_STATE_GET);
  });

  it.each(MODES)('%s: stage.moveTo with a 30-day motionTimeoutMs is refused before the move is sent', async (mode) => {
    const { client, server } = await fakeClient(mode);
    const before = server.received.length;
    const result = await outcome(client.stage.moveTo(1, 5, { motionTimeoutMs: 30 * 24 * 3600 * 1000 }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toBeInstanceOf(ArgumentError);
    expect(server.received.length).toBe(before);
    const waited = await outcome(client.waitFor(Command.SYSTEM_STATE_IDLE, { timeoutMs: 2 ** 31 }));
    expect(!waited.ok && waited.error).toBeInstanceOf(ArgumentError);
  });

  it('a far deadline on the shared deadline timer arms no overflowing timer (no TimeoutOverflowWarning)', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const timer = new DeadlineTimer();
    const entry = { deadline: performance.now() + 1e12, expire: vi.fn() };
    timer.add(entry);
    timer.delete(entry);
    expect(warn).not.toHaveBeenCalled();
    expect(entry.expire).not.toHaveBeenCalled();
  });

  it.each([-1, Number.NaN, 0, 2 ** 31])('connectTimeoutMs %s is an ArgumentError before any connection is attempted', async (connectTimeoutMs) => {
    const result = await outcome(FlamingoClient.connect({ host: '127.0.0.1', port: 9, connectTimeoutMs }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(ArgumentError);
      expect(result.error.message).toContain('connectTimeoutMs');
    }
  });
});

describe('issue 18 defect 4: never-written requests reported as maybe executed', () => {
  /** Start a chunked upload and queue three GETs behind it; the server hangs up after the first chunk. */
  async function lossDuringUpload(mode: 'sequenced' | 'lease', options: ClientOptions) {
    const server = new FakeServer({ echoSequence: mode === 'sequenced' });
    server.handler = (packet, connection) => {
      if (packet.code !== Command.CAMERA_WORKFLOW_START) server.autoReply(packet, connection);
    };
    const client = await FlamingoClient.connect({ mode, transport: () => server.connectMemory(), uploadChunkBytes: 1024, ...options });
    cleanups.push(
      () => server.close(),
      () => client.close(),
    );
    let dropped = false;
    const upload = outcome(
      client.send(
        Command.CAMERA_WORKFLOW_START,
        {},
        {
          payload: new Uint8Array(256 * 1024),
          onUploadProgress: () => {
            if (dropped) return;
            dropped = true;
            server.connection.drop();
          },
        },
      ),
    );
    const gets = [1, 2, 3].map((axis) => outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: axis })));
    return { server, client, upload, gets };
  }

  it.each(MODES)('%s: requests queued behind an upload when the link drops reject with maybeExecuted: false', async (mode) => {
    const { server, upload, gets } = await lossDuringUpload(mode, {});
    expect((await upload).ok).toBe(false);
    for (const result of await Promise.all(gets)) {
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error).toBeInstanceOf(ConnectionClosedError);
        expect((result.error as ConnectionClosedError).maybeExecuted).toBe(false);
      }
    }
    expect(server.received.filter((p) => p.code === Command.STAGE_POSITION_GET)).toHaveLength(0);
  });

  it.each(MODES)("%s: with whileDown 'queue' they wait for the reconnect and are answered", async (mode) => {
    const { server, gets } = await lossDuringUpload(mode, { reconnect: { initialDelayMs: 1, maxDelayMs: 2, whileDown: 'queue' } });
    const results = await Promise.all(gets);
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(results.map((r) => (r.ok ? r.value.int32Data0 : -1))).toEqual([1, 2, 3]);
    const second = server.connections[1];
    expect(second?.received.filter((p) => p.code === Command.STAGE_POSITION_GET).map((p) => p.int32Data0)).toEqual([1, 2, 3]);
  });
});

describe('issue 18 defect 5: a queued exclusive() hangs forever, even after close()', () => {
  it.each(MODES)('%s: client.exclusive(async () => client.stage.moveBy(1, 0.5)) settles (re-entrant section)', async (mode) => {
    const { client } = await simClient(mode);
    const result = await within(client.exclusive(async () => client.stage.moveBy(1, 0.5)));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value.position).toBe(8);
    // The connection is usable afterwards (no request left behind a stuck gate).
    expect((await within(client.request(Command.SYSTEM_STATE_GET))).ok).toBe(true);
  });

  it.each(MODES)('%s: sections stay re-entrant after the section store was switched off between them, also overlapping across two clients', async (mode) => {
    const { client } = await simClient(mode);
    const other = (await simClient(mode)).client;
    // One after another: the store is off between them (no section running), on again inside each.
    for (const axis of [1, 2]) {
      const result = await within(client.exclusive(async () => client.stage.moveBy(axis, 0.5)));
      expect(result.ok).toBe(true);
    }
    // Overlapping across two clients: the first to end must not switch the store off under the other.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const long = within(
      other.exclusive(async () => {
        await gate;
        return other.request(Command.STAGE_POSITION_GET, { int32Data0: 3 });
      }),
    );
    const short = await within(client.exclusive(async () => client.request(Command.STAGE_POSITION_GET, { int32Data0: 1 })));
    expect(short.ok).toBe(true);
    release();
    const longResult = await long;
    expect(longResult.ok).toBe(true);
    if (longResult.ok) expect(longResult.value.int32Data0).toBe(3);
  });

  it.each(MODES)('%s: a section whose callback returns a plain value (a JavaScript caller) resolves with it', async (mode) => {
    const { client } = await simClient(mode);
    // Deliberately not a promise: the typed signature asks for one, a JavaScript caller may not give one.
    const plain = (() => 7) as unknown as () => Promise<number>;
    const result = await within(client.exclusive(plain));
    expect(result.ok && result.value).toBe(7);
    expect((await within(client.exclusive(async () => client.stage.moveBy(1, 0.5)))).ok).toBe(true);
  });

  it.each(MODES)('%s: state.refresh() and client.request() inside a section settle', async (mode) => {
    const { client } = await simClient(mode);
    const result = await within(
      client.exclusive(async () => {
        const report = await client.state.refresh();
        const reply = await client.request(Command.STAGE_POSITION_GET, { int32Data0: 2 });
        await client.send(Command.STAGE_HALT);
        return { report, value: reply.value };
      }),
    );
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value.value).toBe(15);
  });

  it.each(MODES)('%s: close() rejects the running and every queued section at once', async (mode) => {
    const { client } = await fakeClient(mode);
    const running = outcome(client.exclusive(() => new Promise<never>(() => undefined)));
    const queued = [1, 2].map(() => outcome(client.exclusive(async (tx) => tx.request(Command.SYSTEM_STATE_GET))));
    await client.close();
    for (const result of await Promise.all([running, ...queued].map((p) => within(p)))) {
      expect(result.ok).toBe(true); // `within` settled: no hang
      if (result.ok) {
        expect(result.value.ok).toBe(false);
        if (!result.value.ok) expect(result.value.error).toBeInstanceOf(ConnectionClosedError);
      }
    }
    const after = await outcome(client.exclusive(async () => 1));
    expect(!after.ok && after.error).toBeInstanceOf(ConnectionClosedError);
  });
});

describe('issue 18 defect 6 (client): a bad option crashes later instead of failing at once', () => {
  it.each([
    { maxPayloadBytes: -1 },
    { maxPayloadBytes: 1.5 },
    { maxQueued: Number.NaN },
    { maxQueued: 0 },
    { maxInFlight: 0 },
    { uploadChunkBytes: 0 },
    { reconnect: { maxAttempts: 0 } },
    { reconnect: { initialDelayMs: 2 ** 31 } },
    { requestTimeout: 100 } as unknown as ClientOptions,
  ])('connect(%o) rejects with ArgumentError and never creates a transport', async (options) => {
    const factory = vi.fn(() => createMemoryPair()[0]);
    const result = await outcome(FlamingoClient.connect({ ...options, transport: factory }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(ArgumentError);
      expect((result.error as ArgumentError).code).toBe('ARGUMENT');
    }
    expect(factory).not.toHaveBeenCalled();
  });
});

describe('issue 18 defect 7: encodePacket writes invalid packets', () => {
  it.each([5, {}, true, null, 12.5])('data: %o is a typed error, not a zeroed packet', (data) => {
    let thrown: unknown;
    try {
      // Deliberately ill-typed: the runtime check of an untyped caller is under test.
      encodePacket({ code: Command.SYSTEM_STATE_GET, data: data as never });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect((thrown as { code?: string }).code).toBe('ARGUMENT');
  });

  it.each(['text', 5, true, {}])('payload: %o is a typed error, not zero bytes', (payload) => {
    // Deliberately ill-typed: the runtime check of an untyped caller is under test.
    expect(() => encodePacket({ code: Command.CAMERA_WORKFLOW_START, payload: payload as never })).toThrow(RangeError);
  });
});

describe('issue 18 defect 10: loose edges', () => {
  it.each([{}, null, true, Symbol('x'), 1.5])('a selector of %s is an ArgumentError, not a TypeError from trim', async (selector) => {
    const { client } = await fakeClient('sequenced');
    // Deliberately ill-typed selectors: the runtime checks of an untyped caller are under test.
    const waited = await outcome(client.waitFor(selector as never));
    expect(!waited.ok && waited.error).toBeInstanceOf(ArgumentError);
    expect(() => client.events(selector as never)).toThrow(ArgumentError);
    const requested = await outcome(client.request(selector as never));
    expect(!requested.ok && requested.error).toBeInstanceOf(ArgumentError);
  });

  it('a second concurrent EventStream.next() rejects with a typed error that has a code', async () => {
    const { client } = await fakeClient('sequenced');
    const stream = client.events(Command.STAGE_MOTION_STOPPED);
    const first = stream.next();
    const second = await outcome(stream.next());
    expect(!second.ok && second.error).toBeInstanceOf(ArgumentError);
    expect(!second.ok && (second.error as ArgumentError).code).toBe('ARGUMENT');
    await stream.return();
    expect((await first).done).toBe(true);
  });

  it.each(MODES)('%s: 11 requests and 11 waits sharing one AbortSignal add no MaxListenersExceededWarning and all abort', async (mode) => {
    const { client, server } = await fakeClient(mode);
    server.handler = () => undefined; // never answers
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const controller = new AbortController();
    const requests = Array.from({ length: 11 }, (_, i) =>
      outcome(client.request(Command.STAGE_POSITION_GET, { int32Data0: (i % 4) + 1 }, { signal: controller.signal })),
    );
    const waits = Array.from({ length: 11 }, () => outcome(client.waitFor(Command.STAGE_MOTION_STOPPED, { signal: controller.signal })));
    controller.abort();
    for (const result of await Promise.all([...requests, ...waits])) expect(!result.ok && result.error).toBeInstanceOf(AbortError);
    expect(warn.mock.calls.filter((call) => String(call[0]).includes('MaxListeners') || String(call[1]).includes('MaxListeners'))).toEqual([]);
  });

  it("an aborted request's signal keeps no listener once every request settled", async () => {
    const { client } = await fakeClient('sequenced');
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    await Promise.all(Array.from({ length: 11 }, () => client.request(Command.SYSTEM_STATE_GET, {}, { signal: controller.signal })));
    expect(add.mock.calls.length).toBe(remove.mock.calls.length);
    expect(add.mock.calls.length).toBeLessThanOrEqual(11);
  });
});
