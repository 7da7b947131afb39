import { encodePacket } from '../../../protocol/codec.js';
import { Command } from '../../../protocol/commands.js';
import { END_MARKER, Offset, PACKET_SIZE, START_MARKER, STATUS_FAILED, STATUS_OK } from '../../../protocol/constants.js';
import type { Packet, PacketInit } from '../../../protocol/packet.js';
import { decodeTextPayload, parseTextFormat, readStageSettings } from '../../../protocol/text-format.js';
import { concatBytes, expect, limitsFromSettings } from './context.js';
import { describePacket } from './probe.js';
import { type ConformanceCheck, hex, laserLevel, pass, stagePosition, systemState, u32At } from './check-kit.js';
import { absurdPayloadClaim, eventsToAll, halfPacketClose, laserBadIndex, laserLevelText, motionStopped, twoClients, workflowEvents, zeroLengthMove } from './checks-instrument.js';

export type { CheckOutcome, CheckStatus, ConformanceCheck } from './check-kit.js';

/** Replies carry both markers, the request's code, and a defined status. */
const markers: ConformanceCheck = {
  name: 'markers',
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
    expect([0, 1, 2].includes(reply.int32Data0), `SYSTEM_STATE_GET reply int32Data0 is ${reply.int32Data0}, expected 0, 1 or 2`);
    return pass(`SYSTEM_STATE_GET answered: both markers, code 0xA007, status 1, state ${reply.int32Data0}`);
  },
};

/** Without TRIGGER_CALL_BACK a GET is not answered. */
const callbackFlag: ConformanceCheck = {
  name: 'callback-flag',
  title: 'a request without TRIGGER_CALL_BACK gets no reply',
  async run(ctx) {
    const conn = await ctx.connect();
    const silent = [systemState, stagePosition(1), laserLevel(1)];
    const codes = new Set(silent.map((r) => r.code));
    const from = conn.mark;
    await conn.write(concatBytes(silent.map((r) => encodePacket({ ...r, cmdDataBits0: 0 }))));
    // The fence (with the flag) proves the server read the unflagged requests; the quiet
    // window after it catches a server that answers out of order.
    await ctx.requestOk(conn, { code: Command.CAMERA_IMAGE_SIZE_GET });
    await conn.listen(ctx.timings.quietMs);
    const answered = conn.since(from, (p) => codes.has(p.code));
    expect(answered.length === 0, `${answered.map(describePacket).join(', ')} answered although TRIGGER_CALL_BACK was clear`);
    return pass(`no reply to ${silent.length} GETs sent without the flag (fence answered, then ${ctx.timings.quietMs} ms quiet)`);
  },
};

/** Informational: does the server echo a sequence number (clientId)? */
const sequenceEcho: ConformanceCheck = {
  name: 'sequence-echo',
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
  title: 'requests sent one byte per write get exactly their replies, in order',
  async run(ctx) {
    const conn = await ctx.connect();
    const requests = [systemState, stagePosition(2), laserLevel(2)];
    await ctx.exchange(conn, requests, 'bytewise');
    return pass(`${requests.length} requests, ${requests.length * PACKET_SIZE} single-byte writes: ${requests.map(describePacket).join(', ')} answered in order`);
  },
};

/** Several requests in one write are each answered once, in order. */
const coalescedInput: ConformanceCheck = {
  name: 'coalesced-input',
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

/** The settings reply carries its text as a trailing payload, and the stream stays aligned after it. */
const settingsPayload: ConformanceCheck = {
  name: 'settings-payload',
  title: 'COMMON_SCOPE_SETTINGS reply: addDataBytes = payload length, settings text; next reply aligned',
  async run(ctx) {
    const conn = await ctx.connect();
    const [settings] = await ctx.exchange(conn, [{ code: Command.COMMON_SCOPE_SETTINGS }, systemState], 'coalesced');
    const reply = settings as Packet;
    expect(reply.status === STATUS_OK, `COMMON_SCOPE_SETTINGS answered with status ${reply.status}`);
    expect(reply.addDataBytes > 0 && reply.payload !== undefined, 'COMMON_SCOPE_SETTINGS reply has addDataBytes 0: expected the settings text as a trailing payload');
    expect(reply.payload.length === reply.addDataBytes, `payload is ${reply.payload.length} bytes, addDataBytes says ${reply.addDataBytes}`);
    expect(conn.skippedBytes === 0, `${conn.skippedBytes} bytes after the payload did not frame as packets`);
    const doc = parseTextFormat(decodeTextPayload(reply.payload));
    const sections = doc.root.items.filter((i) => i.kind === 'section').length;
    expect(sections > 0, 'the settings payload holds no <Section>');
    let limits = 'no readable <Stage limits>';
    try {
      const axes = limitsFromSettings(readStageSettings(doc));
      ctx.findings.limits = { axes, source: 'settings' };
      limits = `stage limits X ${axes[0]?.min}..${axes[0]?.max} mm`;
    } catch {
      // Reported in the reason; moves then use the conventions' limits.
    }
    return pass(`${reply.addDataBytes}-byte settings text, ${sections} sections, ${limits}; the SYSTEM_STATE_GET after it answered`);
  },
};

/** A WORKFLOW_START payload is consumed in-stream: the request written right after it is answered. */
const workflowPayload: ConformanceCheck = {
  name: 'workflow-payload',
  title: 'WORKFLOW_START with a workflow payload is consumed in-stream; the next GET answers',
  async run(ctx) {
    const conn = await ctx.connect();
    await ctx.ensureIdle(conn);
    const payload = new TextEncoder().encode(await ctx.workflowText(conn, 1));
    const from = conn.mark;
    const [start, state] = await ctx.exchange(conn, [{ code: Command.CAMERA_WORKFLOW_START, payload }, systemState], 'coalesced');
    expect(start?.status === STATUS_OK, `WORKFLOW_START with a valid 1-plane workflow answered status ${start?.status}, expected 1 (started)`);
    await conn.waitFor((p) => p.code === Command.SYSTEM_STATE_IDLE, { from, timeoutMs: ctx.timings.workflowTimeoutMs, what: 'SYSTEM_STATE_IDLE after the workflow' });
    return pass(`${payload.length}-byte workflow payload consumed; WORKFLOW_START status 1, SYSTEM_STATE_GET after it answered (state ${state?.int32Data0}); idle again`);
  },
};

/** A payload that is not a workflow is refused and starts nothing. */
const workflowRejectsText: ConformanceCheck = {
  name: 'workflow-bad-payload',
  title: 'WORKFLOW_START with a non-workflow payload: status 0, nothing starts, stream stays aligned',
  async run(ctx) {
    const conn = await ctx.connect();
    await ctx.ensureIdle(conn);
    const payload = new TextEncoder().encode('this is not a workflow file\r\n');
    const [start, state] = await ctx.exchange(conn, [{ code: Command.CAMERA_WORKFLOW_START, payload }, systemState], 'coalesced');
    expect(start?.status === STATUS_FAILED, `WORKFLOW_START with a non-workflow payload answered status ${start?.status}, expected 0`);
    expect(state?.int32Data0 === 0, `SYSTEM_STATE_GET after it reports state ${state?.int32Data0}: something started`);
    return pass(`${payload.length}-byte non-workflow payload refused with status 0; system still idle`);
  },
};

/**
 * Every check, in the order they run. Cheap framing checks first (they tell the most when
 * something basic is wrong), the settings read before any move, workflows last.
 */
export const CHECKS: readonly ConformanceCheck[] = [
  markers,
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
