import { encodePacket } from '../../../protocol/codec.js';
import { Command } from '../../../protocol/commands.js';
import { END_MARKER, Offset, PACKET_SIZE, START_MARKER } from '../../../protocol/constants.js';
import { Flags } from '../../../protocol/flags.js';
import type { Packet, PacketInit } from '../../../protocol/packet.js';
import { decodeTextPayload, parseTextFormat, readStageSettings } from '../../../protocol/text-format.js';
import { CheckFailure, concatBytes, expect, limitsFromSettings } from './context.js';
import { hex, laserLevel, pass, stagePosition, systemState, u32At, type ConformanceCheck } from './check-kit.js';
export type { CheckLevel, CheckOutcome, CheckStatus, ConformanceCheck } from './check-kit.js';
import { eventsToAll, idleStateCode, laserBadIndex, laserLevelText, motionStopped, workflowEvents, zeroLengthMove } from './checks-observed.js';
import { describePacket, encodeWithCallback } from './probe.js';

/** The same header fields as the request: what a plain echo server sends back. */
function isEcho(request: PacketInit, p: Packet): boolean {
  return (
    p.code === request.code &&
    p.status === (request.status ?? 0) &&
    p.int32Data0 === (request.int32Data0 ?? 0) &&
    p.int32Data1 === (request.int32Data1 ?? 0) &&
    p.cmdDataBits0 === Flags.TRIGGER_CALL_BACK &&
    p.value === (request.value ?? 0)
  );
}

/**
 * First, and a gate for the rest: is this a Flamingo control server at all? A silent
 * server, or one that sends every packet back unchanged (a TCP echo server), is not; the
 * runner stops after this check fails, since every later check would mislead.
 */
const flamingoServer: ConformanceCheck = {
  name: 'flamingo-server',
  level: 'wire',
  title: 'the server answers like a Flamingo control server (not silent, not an echo)',
  async run(ctx) {
    const conn = await ctx.connect();
    const probes: PacketInit[] = [
      { code: Command.SYSTEM_STATE_GET, int32Data2: 0x0f1a },
      { code: Command.CAMERA_IMAGE_SIZE_GET, int32Data1: 0x0f1b },
    ];
    const echoed: string[] = [];
    for (const probe of probes) {
      let reply: Packet;
      try {
        reply = await ctx.request(conn, probe);
      } catch (error) {
        throw new CheckFailure(
          `no answer to ${describePacket(probe)} (sent with TRIGGER_CALL_BACK) within ${ctx.timings.replyTimeoutMs} ms: ` +
            `this does not look like a Flamingo control server (${error instanceof Error ? error.message : String(error)})`,
        );
      }
      if (isEcho(probe, reply) && reply.int32Data2 === (probe.int32Data2 ?? 0)) echoed.push(describePacket(probe));
    }
    expect(
      echoed.length < probes.length,
      `the server sent ${echoed.join(' and ')} back unchanged (status 0, every field as sent): an echo server, not a Flamingo control server`,
    );
    return pass('SYSTEM_STATE_GET and CAMERA_IMAGE_SIZE_GET answered with replies of their own');
  },
};

/** Replies carry both markers, the request's code, and a defined status. */
const markers: ConformanceCheck = {
  name: 'markers',
  level: 'wire',
  title: 'replies start with 0xF321E654, end with 0xFEDC4321 and carry the request code',
  async run(ctx) {
    const conn = await ctx.connect();
    const reply = await ctx.requestOk(conn, systemState);
    expect(conn.rawStartLength >= PACKET_SIZE, `only ${conn.rawStartLength} bytes arrived`);
    const start = u32At(conn.rawStart, Offset.startMarker);
    const end = u32At(conn.rawStart, Offset.endMarker);
    expect(start === START_MARKER, `first packet starts with ${hex(start)}, expected ${hex(START_MARKER)}`);
    expect(end === END_MARKER, `first packet ends with ${hex(end)} at offset 124, expected ${hex(END_MARKER)}`);
    expect(conn.skippedBytes === 0, `${conn.skippedBytes} bytes from the server did not frame as packets`);
    return pass(`SYSTEM_STATE_GET answered: both markers, code 0xA007, status 1, state ${hex(reply.int32Data0)}`);
  },
};

/**
 * Some GETs answer without TRIGGER_CALL_BACK (SYSTEM_STATE_GET, PIXEL_FIELD_OF_VIEW_GET),
 * some did not (STAGE_POSITION_GET, CAMERA_IMAGE_SIZE_GET): only the first is required;
 * the others are reported, since "no flag, no reply" is not a rule a check may rely on.
 */
const callbackFlag: ConformanceCheck = {
  name: 'callback-flag',
  level: 'observed',
  evidence: 'RIG §0.2 [DQ]',
  title: 'SYSTEM_STATE_GET answers without TRIGGER_CALL_BACK (as the instrument does)',
  async run(ctx) {
    const conn = await ctx.connect();
    const unflagged = [systemState, stagePosition(1), { code: Command.CAMERA_IMAGE_SIZE_GET }];
    const from = conn.mark;
    await conn.write(concatBytes(unflagged.map((r) => encodePacket({ ...r, cmdDataBits0: 0 }))));
    // The fence (with the flag) proves the server read them; the quiet window catches late answers.
    await ctx.requestOk(conn, { code: Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET });
    await conn.listen(ctx.timings.quietMs);
    const answered = new Set(conn.since(from, () => true).map((p) => p.code));
    expect(answered.has(Command.SYSTEM_STATE_GET), 'SYSTEM_STATE_GET sent without the flag got no answer; the instrument answers it');
    const others = [Command.STAGE_POSITION_GET, Command.CAMERA_IMAGE_SIZE_GET].map(
      (c) => `${c === Command.STAGE_POSITION_GET ? 'STAGE_POSITION_GET' : 'CAMERA_IMAGE_SIZE_GET'} ${answered.has(c) ? 'answered' : 'no answer (as observed)'}`,
    );
    return pass(`without the flag: SYSTEM_STATE_GET answered; ${others.join(', ')}`);
  },
};

/** Informational: does the server echo a sequence number (clientId)? */
const sequenceEcho: ConformanceCheck = {
  name: 'sequence-echo',
  level: 'extension',
  title: 'does the server echo the clientId sequence number (sequenced mode)?',
  async run(ctx) {
    const conn = await ctx.connect();
    const sequence = 0x5e0c0001;
    const reply = await ctx.requestOk(conn, { ...systemState, clientId: sequence });
    ctx.findings.echoesSequence = reply.clientId === sequence;
    if (reply.clientId === sequence) return { status: 'info', reason: `clientId ${hex(sequence)} echoed: clients can use sequenced mode` };
    if (reply.clientId === 0) return { status: 'info', reason: 'no echo (clientId 0 in the reply, like published firmware): clients use lease mode' };
    return { status: 'info', reason: `reply clientId ${hex(reply.clientId)} differs from the request's ${hex(sequence)}: clients use lease mode` };
  },
};

/** Requests sent one byte per write are reassembled and answered in order. */
const fragmentedInput: ConformanceCheck = {
  name: 'fragmented-input',
  level: 'wire',
  title: 'requests sent one byte per write get exactly their replies, in order',
  async run(ctx) {
    const conn = await ctx.connect();
    const requests = [systemState, stagePosition(2), laserLevel(2)];
    await ctx.exchange(conn, requests, 'bytewise');
    return pass(
      `${requests.length} requests, ${requests.length * PACKET_SIZE} single-byte writes: ${requests.map(describePacket).join(', ')} answered in order`,
    );
  },
};

/** Several requests in one write are each answered once, in order. */
const coalescedInput: ConformanceCheck = {
  name: 'coalesced-input',
  level: 'wire',
  title: 'several requests in one write get exactly their replies, in order',
  async run(ctx) {
    const conn = await ctx.connect();
    const requests: PacketInit[] = [systemState, stagePosition(1), stagePosition(2), laserLevel(1)].map((r, i) => ({ ...r, clientId: 0x5e0c0100 + i }));
    const replies = await ctx.exchange(conn, requests, 'coalesced');
    let note = '';
    if (ctx.findings.echoesSequence === true) {
      const wrong = replies.findIndex((p, i) => p.clientId !== requests[i]?.clientId);
      expect(wrong < 0, `reply ${wrong + 1} echoes clientId ${hex(replies[wrong]?.clientId ?? 0)}, its request had ${hex(requests[wrong]?.clientId ?? 0)}`);
      note = ', each echoing its own clientId';
    }
    return pass(`${requests.length} requests + fence in one ${(requests.length + 1) * PACKET_SIZE}-byte write: all answered in order${note}`);
  },
};

/** Garbage before a request is skipped and the request still answered. */
const garbageResync: ConformanceCheck = {
  name: 'garbage-resync',
  level: 'wire',
  title: 'garbage before a request (even a false start marker) is skipped; the request is answered',
  async run(ctx) {
    const conn = await ctx.connect();
    // Noise with a partial start marker (54 E6 21) in it, then a request.
    const noise = Uint8Array.from({ length: 61 }, (_, i) => (i * 37 + 11) & 0xff);
    noise.set([0x54, 0xe6, 0x21], 20);
    await conn.write(noise);
    await ctx.exchange(conn, [systemState], 'separate');
    // A whole start marker followed by junk: a header "found" there has no end marker, so
    // the server must move on and find the real request inside what it first took as a header.
    const falseStart = new Uint8Array(40).fill(0x99);
    new DataView(falseStart.buffer).setUint32(0, START_MARKER, true);
    await conn.write(falseStart);
    await ctx.exchange(conn, [stagePosition(1)], 'separate');
    return pass('61 noise bytes, then 40 bytes behind a false start marker: both following requests answered');
  },
};

/**
 * Settings are read with COMMON_SCOPE_SETTINGS_LOAD (0x1009) and answered by a 0x1007
 * packet with the text, counted in addDataBytes or bare after it: both pass; the stream
 * must stay aligned for the request behind it.
 */
const settingsPayload: ConformanceCheck = {
  name: 'settings-payload',
  level: 'observed',
  evidence: 'RIG §1a, §7 (2023 client); framing not recorded',
  title: 'COMMON_SCOPE_SETTINGS_LOAD is answered by 0x1007 with the settings text; the next reply is aligned',
  async run(ctx) {
    const conn = await ctx.connect();
    const [settings] = await ctx.exchange(conn, [{ code: Command.COMMON_SCOPE_SETTINGS_LOAD }, systemState], 'coalesced');
    const reply = settings as Packet;
    expect(
      reply.payload !== undefined && reply.payload.length > 0,
      'the 0x1007 answer carried no settings text (neither counted in addDataBytes nor bare after it)',
    );
    const framing =
      reply.addDataBytes > 0 ? `counted (addDataBytes ${reply.addDataBytes})` : `bare (${reply.payload.length} bytes after a packet with addDataBytes 0)`;
    if (reply.addDataBytes > 0)
      expect(reply.payload.length === reply.addDataBytes, `payload is ${reply.payload.length} bytes, addDataBytes says ${reply.addDataBytes}`);
    const doc = parseTextFormat(decodeTextPayload(reply.payload));
    const sections = doc.root.items.filter((i) => i.kind === 'section').length;
    expect(sections > 0, 'the settings text holds no <Section>');
    let limits = 'no <Stage limits> this version reads';
    try {
      const axes = limitsFromSettings(readStageSettings(doc));
      ctx.findings.limits = { axes, source: 'settings' };
      limits = `stage limits X ${axes[0]?.min}..${axes[0]?.max} mm`;
    } catch {
      // Reported in the reason; moves then use the conventions' limits.
    }
    return pass(`settings text ${framing}, ${sections} sections, ${limits}; the SYSTEM_STATE_GET after it answered`);
  },
};

/** A WORKFLOW_START payload is consumed in-stream: the request written right after it is answered. */
const workflowPayload: ConformanceCheck = {
  name: 'workflow-payload',
  level: 'wire',
  title: 'WORKFLOW_START with a workflow payload is consumed in-stream; the GET behind it answers',
  async run(ctx) {
    const conn = await ctx.connect();
    await ctx.ensureIdle(conn);
    const payload = new TextEncoder().encode(await ctx.workflowText(conn, 1));
    // As the vendor GUI sends it: flag set, addDataBytes = length; no answer is expected.
    const from = conn.mark;
    await conn.write(encodeWithCallback({ code: Command.CAMERA_WORKFLOW_START, payload }));
    const state = await ctx.requestOk(conn, systemState);
    // The run shows itself by its gauge (RIG): a payload the server lost starts nothing.
    await conn.waitFor((p) => p.code === Command.UI_SET_GAUGE_VALUE, {
      from,
      timeoutMs: ctx.timings.workflowTimeoutMs,
      what: 'gauge value (the uploaded workflow did not run)',
    });
    await ctx.ensureIdle(conn);
    return pass(`${payload.length}-byte workflow payload consumed and run; SYSTEM_STATE_GET behind it answered (state ${hex(state.int32Data0)}); idle again`);
  },
};

/** A payload that is not a workflow leaves the stream aligned. */
const workflowRejectsText: ConformanceCheck = {
  name: 'workflow-bad-payload',
  level: 'wire',
  title: 'WORKFLOW_START with a non-workflow payload: the stream stays aligned',
  async run(ctx) {
    const conn = await ctx.connect();
    await ctx.ensureIdle(conn);
    const payload = new TextEncoder().encode('this is not a workflow file\r\n');
    await conn.write(encodeWithCallback({ code: Command.CAMERA_WORKFLOW_START, payload }));
    const state = await ctx.systemState(conn);
    return pass(`${payload.length}-byte non-workflow payload consumed; SYSTEM_STATE_GET behind it answered, ${state.state}`);
  },
};

/** Two clients at once are each answered, and only with their own replies. */
const twoClients: ConformanceCheck = {
  name: 'two-clients',
  level: 'wire',
  title: 'two connections at once: each gets exactly its own replies',
  async run(ctx) {
    const a = await ctx.connect();
    const b = await ctx.connect();
    const fromA = a.mark;
    const fromB = b.mark;
    // Interleave the writes so the server holds both connections' requests at once.
    await a.write(encodeWithCallback(systemState));
    await b.write(encodeWithCallback(stagePosition(1)));
    await a.write(encodeWithCallback(laserLevel(1)));
    await b.write(encodeWithCallback({ code: Command.CAMERA_IMAGE_SIZE_GET }));
    await a.waitFor((p) => p.code === Command.LASER_LEVEL_GET, {
      from: fromA,
      timeoutMs: ctx.timings.replyTimeoutMs * 2,
      what: 'the first connection’s replies',
    });
    await b.waitFor((p) => p.code === Command.CAMERA_IMAGE_SIZE_GET, {
      from: fromB,
      timeoutMs: ctx.timings.replyTimeoutMs * 2,
      what: 'the second connection’s replies',
    });
    await a.listen(ctx.timings.quietMs);
    const wantA = [Command.SYSTEM_STATE_GET, Command.LASER_LEVEL_GET];
    const wantB = [Command.STAGE_POSITION_GET, Command.CAMERA_IMAGE_SIZE_GET];
    const asked = new Set<number>([...wantA, ...wantB]);
    const gotA = a.since(fromA, (p) => asked.has(p.code)).map((p) => p.code);
    const gotB = b.since(fromB, (p) => asked.has(p.code)).map((p) => p.code);
    const same = (x: number[], y: number[]) => x.length === y.length && x.every((c, i) => c === y[i]);
    expect(same(gotA, wantA), `first connection got codes ${gotA.map((c) => c.toString(16)).join(', ')}, expected a007, 2002`);
    expect(same(gotB, wantB), `second connection got codes ${gotB.map((c) => c.toString(16)).join(', ')}, expected 6008, 3027`);
    return pass('interleaved requests on two connections: each got its own two replies, nothing of the other’s');
  },
};

/** Half a packet, then a close, leaves the server serving. */
const halfPacketClose: ConformanceCheck = {
  name: 'half-packet-close',
  level: 'wire',
  title: 'a client that sends half a packet and closes does not break the server',
  async run(ctx) {
    const other = await ctx.connect();
    await ctx.requestOk(other, systemState);
    const quitter = await ctx.connect();
    await ctx.requestOk(quitter, systemState);
    await quitter.write(encodeWithCallback(systemState).subarray(0, 60));
    await quitter.close();
    await ctx.requestOk(other, stagePosition(1));
    const fresh = await ctx.connect();
    await ctx.requestOk(fresh, systemState);
    return pass('60 of 128 bytes then close: the open connection and a new one are both answered');
  },
};

/** A payload claim of ~4 GiB does not take the server down for others. */
const absurdPayloadClaim: ConformanceCheck = {
  name: 'absurd-payload-claim',
  level: 'wire',
  title: 'a header claiming a 4 GiB payload does not break the server for other clients',
  async run(ctx) {
    const other = await ctx.connect();
    await ctx.requestOk(other, systemState);
    const liar = await ctx.connect();
    await ctx.requestOk(liar, systemState);
    const claim = 0xfffffff0;
    const header = encodePacket({ code: Command.SYSTEM_STATE_GET, cmdDataBits0: Flags.TRIGGER_CALL_BACK, addDataBytes: claim });
    await liar.write(concatBytes([header, new Uint8Array(1024)]));
    const closed = await liar.waitClosed(ctx.timings.quietMs);
    await ctx.requestOk(other, stagePosition(1));
    const fresh = await ctx.connect();
    await ctx.requestOk(fresh, systemState);
    const fate = closed ? 'the server closed that connection' : 'that connection stayed open (the server may be waiting for the payload)';
    return pass(`addDataBytes ${claim} (${hex(claim)}): ${fate}; the other connection and a new one are answered`);
  },
};

/**
 * Every check, in the order they run. Cheap framing checks first (they tell the most when
 * something basic is wrong), the settings read before any move, workflows last.
 */
export const CHECKS: readonly ConformanceCheck[] = [
  flamingoServer,
  markers,
  idleStateCode,
  callbackFlag,
  sequenceEcho,
  fragmentedInput,
  coalescedInput,
  garbageResync,
  settingsPayload,
  motionStopped,
  zeroLengthMove,
  eventsToAll,
  laserLevelText,
  laserBadIndex,
  workflowPayload,
  workflowRejectsText,
  workflowEvents,
  twoClients,
  halfPacketClose,
  absurdPayloadClaim,
];
