import { describe, expect, it } from 'vitest';
import { Command, ConnectError, Deframer, encodePacket, listenTcp, connectTcp, type Packet, type TcpTransport, writeAndWaitForRoom } from 'flamingo-protocol';
import { SimulatedMicroscope, type SimulatorOptions } from 'flamingo-protocol/sim';
import { CHECKS, checkNames, formatReport, reportJson, runConformance, type ConformanceOptions } from '../../src/apps/conformance/index.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

const cleanups = cleanedUpAfterEach();

/** Fast settings for an in-process simulator: it answers at once, so short windows suffice. */
const FAST: Partial<ConformanceOptions> = { quietMs: 40, replyTimeoutMs: 2000, moveTimeoutMs: 3000, workflowTimeoutMs: 5000 };

async function sim(options: SimulatorOptions = {}) {
  const s = new SimulatedMicroscope({ timeScale: 50, ...options });
  cleanups.push(() => s.close());
  const { port } = await s.listen({ port: 0 });
  return { sim: s, port };
}

/**
 * A proxy in front of a server that rewrites packets: `up` for client → server, `down` for
 * server → client. Returning undefined drops the packet; a Uint8Array is sent as-is.
 */
async function proxy(target: number, rewrite: { up?: (p: Packet) => Uint8Array | undefined; down?: (p: Packet) => Uint8Array | undefined }) {
  const encode = (p: Packet) => encodePacket({ ...p, ...(p.payload === undefined ? {} : { payload: p.payload }) });
  const pipe = (from: TcpTransport, to: TcpTransport, f: ((p: Packet) => Uint8Array | undefined) | undefined) => {
    const deframer = new Deframer();
    from.attach({
      data: (chunk) => {
        for (const p of deframer.push(chunk)) {
          const out = f === undefined ? encode(p) : f(p);
          if (out !== undefined) writeAndWaitForRoom(to, out).catch(() => undefined);
        }
      },
      close: () => to.destroy(),
    });
  };
  const listener = await listenTcp({ port: 0 }, (client) => {
    connectTcp({ port: target }).then(
      (server) => {
        pipe(client, server, rewrite.up);
        pipe(server, client, rewrite.down);
      },
      () => client.destroy(),
    );
  });
  cleanups.push(() => listener.close());
  return listener.port;
}

function byName(report: Awaited<ReturnType<typeof runConformance>>) {
  return Object.fromEntries(report.results.map((r) => [r.name, r]));
}

describe('runConformance against the simulator', () => {
  it('passes every check in sequenced mode and reports the clientId echo', async () => {
    const { port } = await sim({ echoSequence: true });
    const seen: string[] = [];
    const report = await runConformance({ port, ...FAST, onResult: (r) => seen.push(r.name) });
    expect(report.results.filter((r) => r.status === 'fail')).toEqual([]);
    expect(report.results.map((r) => r.name)).toEqual(checkNames());
    expect(seen).toEqual(checkNames());
    // Two extension rows are INFO: the sequence echo and the simulator's zero-length-move choice.
    expect(report).toMatchObject({
      ok: true,
      failed: 0,
      info: 2,
      passed: CHECKS.length - 2,
      echoesSequence: true,
      limitsSource: 'settings',
      server: `127.0.0.1:${port}`,
    });
    expect(byName(report)['sequence-echo']).toMatchObject({ status: 'info', reason: 'clientId 0x5E0C0001 echoed: clients can use sequenced mode' });
    expect(byName(report)['coalesced-input']?.reason).toBe('4 requests + fence in one 640-byte write: all answered in order, each echoing its own clientId');
  });

  it('passes every check with the default (instrument-like) behaviour: no echo', async () => {
    const { port } = await sim();
    const report = await runConformance({ port, ...FAST });
    expect(report.results.filter((r) => r.status === 'fail')).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.echoesSequence).toBe(false);
    expect(byName(report)['sequence-echo']?.reason).toBe('no echo (clientId 0 in the reply, like published firmware): clients use lease mode');
    expect(byName(report)['coalesced-input']?.reason).toBe('4 requests + fence in one 640-byte write: all answered in order');
  });

  it('passes at real speed too (timeScale 1): moves and the workflow are short', async () => {
    const { port } = await sim({ timeScale: 1, echoSequence: false });
    const report = await runConformance({ port, ...FAST, only: ['motion-stopped', 'workflow-events'] });
    expect(report.results.map((r) => [r.name, r.status])).toEqual([
      ['motion-stopped', 'pass'],
      ['workflow-events', 'pass'],
    ]);
    expect(report.results[0]?.reason).toBe('X 7.5 → 7.55 → 7.5 mm: STAGE_MOTION_STOPPED status 1 both ways (event value 7.55)');
    expect(report.results[1]?.reason).toBe(
      '3 planes: 3 gauge values (last 3/3), 0 stack-complete, a stale idle push before the first gauge value, then SYSTEM_STATE_IDLE; idle after',
    );
  });

  it('passes with the settings text sent bare after the 0x1007 packet (addDataBytes 0)', async () => {
    const { port } = await sim({ settingsFraming: 'bare' });
    const report = await runConformance({ port, ...FAST, only: ['settings-payload'] });
    expect(report.results[0]?.status).toBe('pass');
    expect(report.results[0]?.reason).toMatch(/^settings text bare \(\d+ bytes after a packet with addDataBytes 0\), \d+ sections/);
  });

  it('passes when the server fragments its output and delays replies (legal behaviour)', async () => {
    const { port } = await sim({ faults: 'fragment=7,delay=1..5' });
    const report = await runConformance({ port, ...FAST });
    expect(report.results.filter((r) => r.status === 'fail')).toEqual([]);
  });

  it('leaves the instrument as found: laser level and stage position restored', async () => {
    const { sim: s, port } = await sim();
    const before = s.snapshot();
    await runConformance({ port, ...FAST, only: ['laser-level', 'motion-stopped', 'zero-length-move'] });
    const after = s.snapshot();
    expect(after.lasers).toEqual(before.lasers);
    expect(after.stage.map((a) => a.position)).toEqual(before.stage.map((a) => a.position));
  });
});

describe('runConformance catches broken servers', () => {
  it('fails markers when the server puts garbage between its packets', async () => {
    const { port } = await sim({ faults: 'garbage=1:8' });
    const report = await runConformance({ port, ...FAST, only: ['markers'] });
    expect(report.ok).toBe(false);
    expect(report.results[0]?.status).toBe('fail');
    expect(report.results[0]?.reason).toMatch(/^first packet starts with 0x[0-9A-F]{8}, expected 0xF321E654$/);
    expect(formatReport(report)).toContain('0 passed, 1 failed, 0 info');
    expect(formatReport(report)).toContain('NOT CONFORMANT');
  });

  it('fails callback-flag when SYSTEM_STATE_GET without the flag is not answered (the instrument answers it)', async () => {
    const { port: real } = await sim();
    // Drop unflagged requests on their way in: nothing without the flag is answered.
    const port = await proxy(real, {
      up: (p) => ((p.cmdDataBits0 & 0x80000000) === 0 ? undefined : encodePacket({ ...p, ...(p.payload && { payload: p.payload }) })),
    });
    const report = await runConformance({ port, ...FAST, only: ['callback-flag'] });
    expect(report.results[0]).toMatchObject({ status: 'fail', reason: 'SYSTEM_STATE_GET sent without the flag got no answer; the instrument answers it' });
  });

  it('does not fail callback-flag when other GETs answer without the flag (silence is not a rule)', async () => {
    const { port: real } = await sim();
    const port = await proxy(real, { up: (p) => encodePacket({ ...p, cmdDataBits0: 0x80000000, ...(p.payload && { payload: p.payload }) }) });
    const report = await runConformance({ port, ...FAST, only: ['callback-flag'] });
    expect(report.results[0]).toMatchObject({
      status: 'pass',
      reason: 'without the flag: SYSTEM_STATE_GET answered; STAGE_POSITION_GET answered, CAMERA_IMAGE_SIZE_GET answered',
    });
  });

  it('fails the payload checks when trailing payloads are not delivered as such', async () => {
    const { port: real } = await sim();
    // Strip the payload length (but keep the bytes) on requests; hide the settings payload on replies.
    const port = await proxy(real, {
      up: (p) => (p.payload === undefined ? encodePacket(p) : new Uint8Array([...encodePacket({ ...p, payload: undefined, addDataBytes: 0 }), ...p.payload])),
      down: (p) => encodePacket({ ...p, payload: undefined, addDataBytes: 0 }),
    });
    const report = await runConformance({ port, ...FAST, only: ['settings-payload', 'workflow-payload'] });
    const r = byName(report);
    expect(r['settings-payload']).toMatchObject({
      status: 'fail',
      reason: 'the 0x1007 answer carried no settings text (neither counted in addDataBytes nor bare after it)',
    });
    expect(r['workflow-payload']).toMatchObject({ status: 'fail', reason: 'no gauge value (the uploaded workflow did not run) within 5000 ms' });
  });

  it('fails motion-stopped and names the missing event when the server never sends it', async () => {
    const { port: real } = await sim();
    const port = await proxy(real, {
      down: (p) => (p.code === Command.STAGE_MOTION_STOPPED ? undefined : encodePacket(p.payload ? { ...p, payload: p.payload } : p)),
    });
    const report = await runConformance({ port, ...FAST, moveTimeoutMs: 150, only: ['motion-stopped', 'zero-length-move'] });
    expect(report.results[0]?.status).toBe('fail');
    expect(report.results[0]?.reason).toMatch(/^no STAGE_MOTION_STOPPED for axis 1 after a move to 7\.55 within 150 ms$/);
    // The zero-length move is the simulator's choice, not evidence: reported, never failed.
    expect(report.results[1]?.status).toBe('info');
    expect(report.results[1]?.reason).toMatch(/^not supported \(an extension, not required\): no STAGE_MOTION_STOPPED for axis 2/);
  });

  it('fails the first check with a clear message and stops against a server that never answers', async () => {
    const silent = await listenTcp({ port: 0 }, (t) => t.attach({ data: () => {}, close: () => {} }));
    cleanups.push(() => silent.close());
    const report = await runConformance({ port: silent.port, ...FAST, replyTimeoutMs: 50, checkTimeoutMs: 2000 });
    expect(report.ok).toBe(false);
    expect(report.results.map((r) => [r.name, r.status])).toEqual([['flamingo-server', 'fail']]);
    expect(report.results[0]?.reason).toBe(
      'no answer to SYSTEM_STATE_GET (sent with TRIGGER_CALL_BACK) within 50 ms: this does not look like a Flamingo control server (no reply to SYSTEM_STATE_GET within 50 ms)',
    );
  });

  it('fails the first check and stops against a plain TCP echo server (which would pass the framing checks)', async () => {
    const echo = await listenTcp({ port: 0 }, (t) =>
      t.attach({ data: (chunk) => void writeAndWaitForRoom(t, chunk.slice()).catch(() => undefined), close: () => {} }),
    );
    cleanups.push(() => echo.close());
    const report = await runConformance({ port: echo.port, ...FAST, replyTimeoutMs: 200 });
    expect(report.ok).toBe(false);
    expect(report.results.map((r) => [r.name, r.status])).toEqual([['flamingo-server', 'fail']]);
    expect(report.results[0]?.reason).toBe(
      'the server sent SYSTEM_STATE_GET and CAMERA_IMAGE_SIZE_GET back unchanged (status 0, every field as sent): an echo server, not a Flamingo control server',
    );
  });

  it('throws a ConnectError naming host:port when nothing listens', async () => {
    const gone = await listenTcp({ port: 0 }, () => {});
    await gone.close();
    await expect(runConformance({ port: gone.port })).rejects.toThrow(new ConnectError('127.0.0.1', gone.port, 'connection refused', 'ECONNREFUSED'));
  });

  it('rejects unknown check names before connecting', async () => {
    await expect(runConformance({ port: 1, only: ['markers', 'nope'] })).rejects.toThrow(
      /^unknown check nope; checks are: flamingo-server, markers, idle-state-code, callback-flag/,
    );
  });

  it('reports as JSON with every row', async () => {
    const { port } = await sim();
    const report = await runConformance({ port, ...FAST, only: ['markers'] });
    const json = JSON.parse(reportJson(report)) as { ok: boolean; results: { name: string; status: string; reason: string }[] };
    expect(json.ok).toBe(true);
    expect(json.results).toEqual([
      {
        name: 'markers',
        title: CHECKS[1]?.title,
        level: 'wire',
        status: 'pass',
        reason: 'SYSTEM_STATE_GET answered: both markers, code 0xA007, status 1, state 0x0000A002',
        durationMs: expect.any(Number),
      },
    ]);
  });
});
