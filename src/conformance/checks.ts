import { dataText, encodePacket } from '../../protocol/codec.js';
import { Command } from '../../protocol/commands.js';
import { END_MARKER, Offset, PACKET_SIZE, START_MARKER, STATUS_FAILED, STATUS_OK } from '../../protocol/constants.js';
import { Flags } from '../../protocol/flags.js';
import type { Packet, PacketInit } from '../../protocol/packet.js';
import { decodeTextPayload, parseTextFormat, readStageSettings } from '../../protocol/text-format.js';
import { concatBytes, expect, limitsFromSettings, type CheckContext } from './context.js';
import { parseLaserLevel } from '../../protocol/laser-level.js';
import { describePacket, encodeWithCallback } from './probe.js';

/** pass and fail count towards the verdict; info reports a property that is allowed either way. */
export type CheckStatus = 'pass' | 'fail' | 'info';

/** What one check concluded. */
export interface CheckOutcome {
  status: CheckStatus;
  /** Why, in words a person can act on: what was sent, what came back. */
  reason: string;
}

/** One named conformance check. */
export interface ConformanceCheck {
  /** Stable id (kebab-case), used by `--only` and in JSON reports. */
  readonly name: string;
  /** What the check proves, in one line. */
  readonly title: string;
  /** Runs the check; throw a CheckFailure (or any error) to fail it. */
  run(ctx: CheckContext): Promise<CheckOutcome>;
}

const pass = (reason: string): CheckOutcome => ({ status: 'pass', reason });
const hex = (n: number) => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
const mm = (n: number) => n.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');

/** Positions agree to within this (mm or degrees): encoders report real positions, not targets. */
const POSITION_TOLERANCE = 0.005;

function u32At(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, true);
}

const systemState: PacketInit = { code: Command.SYSTEM_STATE_GET };
const stagePosition = (axis: number): PacketInit => ({ code: Command.STAGE_POSITION_GET, int32Data0: axis });
const laserLevel = (laser: number): PacketInit => ({ code: Command.LASER_LEVEL_GET, int32Data0: laser });

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

/** A short move ends with STAGE_MOTION_STOPPED at the target; moving back does too. */
const motionStopped: ConformanceCheck = {
  name: 'motion-stopped',
  title: 'a short move: reply status 1, then STAGE_MOTION_STOPPED (status 1, axis, final position)',
  async run(ctx) {
    const conn = await ctx.connect();
    const axis = 1;
    const origin = await ctx.position(conn, axis);
    const target = await ctx.nearbyTarget(conn, axis, origin);
    const out = await ctx.move(conn, axis, target);
    expect(out.reply.int32Data0 === axis, `STAGE_POSITION_SET reply int32Data0 is ${out.reply.int32Data0}, expected the axis ${axis}`);
    expect(out.stopped.status === STATUS_OK, `STAGE_MOTION_STOPPED status ${out.stopped.status}, expected 1 (target reached)`);
    expect(Math.abs(out.stopped.value - target) <= POSITION_TOLERANCE, `STAGE_MOTION_STOPPED value ${out.stopped.value}, expected the target ${target}`);
    const reached = await ctx.position(conn, axis);
    expect(Math.abs(reached - target) <= POSITION_TOLERANCE, `position after the move is ${reached}, expected ${target}`);
    const back = await ctx.move(conn, axis, origin);
    expect(back.stopped.status === STATUS_OK, `moving back: STAGE_MOTION_STOPPED status ${back.stopped.status}`);
    return pass(`X ${mm(origin)} → ${mm(target)} → ${mm(origin)} mm: STAGE_MOTION_STOPPED status 1 at ${mm(out.stopped.value)} and ${mm(back.stopped.value)}`);
  },
};

/** A move to where the axis already is still ends with STAGE_MOTION_STOPPED. */
const zeroLengthMove: ConformanceCheck = {
  name: 'zero-length-move',
  title: 'a move to the current position still sends STAGE_MOTION_STOPPED',
  async run(ctx) {
    const conn = await ctx.connect();
    const axis = 2;
    const here = await ctx.position(conn, axis);
    const out = await ctx.move(conn, axis, here);
    expect(out.stopped.status === STATUS_OK, `STAGE_MOTION_STOPPED status ${out.stopped.status}, expected 1`);
    expect(Math.abs(out.stopped.value - here) <= POSITION_TOLERANCE, `STAGE_MOTION_STOPPED value ${out.stopped.value}, expected ${here}`);
    return pass(`Y to its own position ${mm(here)} mm: STAGE_MOTION_STOPPED status 1`);
  },
};

/** Unsolicited events go to every connected client, not only the one that caused them. */
const eventsToAll: ConformanceCheck = {
  name: 'events-to-all-clients',
  title: "STAGE_MOTION_STOPPED reaches every connected client, not only the mover",
  async run(ctx) {
    const mover = await ctx.connect();
    const watcher = await ctx.connect();
    // A round trip proves the server has registered the watcher before the move.
    await ctx.requestOk(watcher, systemState);
    const axis = 3;
    const watchFrom = watcher.mark;
    const here = await ctx.position(mover, axis);
    await ctx.move(mover, axis, here);
    const seen = await watcher.waitFor((p) => p.code === Command.STAGE_MOTION_STOPPED && p.int32Data0 === axis, {
      from: watchFrom,
      timeoutMs: ctx.timings.moveTimeoutMs,
      what: 'STAGE_MOTION_STOPPED on the second connection',
    });
    expect(seen.packet.clientId === 0, `the event carries clientId ${hex(seen.packet.clientId)}; events carry 0 (they answer no request)`);
    return pass('zero-length Z move on one connection: STAGE_MOTION_STOPPED arrived on both');
  },
};

/** A laser level set as text reads back as the same text. */
const laserLevelText: ConformanceCheck = {
  name: 'laser-level',
  title: 'LASER_LEVEL_SET "x.xx" then LASER_LEVEL_GET returns the same text (then restored)',
  async run(ctx) {
    const conn = await ctx.connect();
    const laser = 1;
    const before = dataText(await ctx.requestOk(conn, laserLevel(laser)));
    expect(parseLaserLevel(before) !== undefined, `LASER_LEVEL_GET(${laser}) data is "${before}", expected a number as text`);
    const wanted = Number(before) === 7.25 ? '6.50' : '7.25';
    try {
      const set = await ctx.requestOk(conn, { code: Command.LASER_LEVEL_SET, int32Data0: laser, data: wanted });
      expect(set.int32Data0 === laser, `LASER_LEVEL_SET reply int32Data0 is ${set.int32Data0}, expected the laser ${laser}`);
      const after = await ctx.requestOk(conn, laserLevel(laser));
      expect(after.int32Data0 === laser, `LASER_LEVEL_GET reply int32Data0 is ${after.int32Data0}, expected the laser ${laser}`);
      const text = dataText(after);
      expect(text === wanted && Number(text) === Number(wanted), `after setting "${wanted}", LASER_LEVEL_GET returned "${text}"`);
    } finally {
      // Leave the instrument as found, even when the check failed half-way.
      await ctx.request(conn, { code: Command.LASER_LEVEL_SET, int32Data0: laser, data: before }).catch(() => undefined);
    }
    const restored = dataText(await ctx.requestOk(conn, laserLevel(laser)));
    expect(restored === before, `restoring "${before}" read back "${restored}"`);
    return pass(`laser ${laser}: "${before}" → set "${wanted}" → read "${wanted}" → restored "${before}"`);
  },
};

/** A bad laser index is reported, not answered with a level. */
const laserBadIndex: ConformanceCheck = {
  name: 'laser-bad-index',
  title: 'LASER_LEVEL_GET for laser 99 answers status 0 or "getLevel error"',
  async run(ctx) {
    const conn = await ctx.connect();
    const reply = await ctx.request(conn, laserLevel(99));
    const text = dataText(reply);
    expect(reply.status === STATUS_FAILED || text === 'getLevel error', `laser 99 answered status ${reply.status} with "${text}"`);
    await ctx.requestOk(conn, systemState);
    return pass(`laser 99: status ${reply.status}, data "${text}"; the connection still answers`);
  },
};

/** A workflow reports progress and its end, in order. */
const workflowEvents: ConformanceCheck = {
  name: 'workflow-events',
  title: 'a workflow pushes gauge size/values, STACK_COMPLETE, then SYSTEM_STATE_IDLE, in order',
  async run(ctx) {
    const conn = await ctx.connect();
    await ctx.ensureIdle(conn);
    const planes = ctx.timings.workflowPlanes;
    const payload = new TextEncoder().encode(await ctx.workflowText(conn, planes));
    const from = conn.mark;
    // Fire-and-forget, as the published client starts workflows: no callback flag.
    await conn.write(encodePacket({ code: Command.CAMERA_WORKFLOW_START, payload }));
    const idle = await conn.waitFor((p) => p.code === Command.SYSTEM_STATE_IDLE, { from, timeoutMs: ctx.timings.workflowTimeoutMs, what: `SYSTEM_STATE_IDLE after a ${planes}-plane workflow` });
    const log = conn.log.slice(from, idle.index + 1);
    const first = (code: number) => log.findIndex((r) => r.packet.code === code);
    const size = first(Command.UI_SET_GAUGE_SIZE);
    const stack = first(Command.CAMERA_STACK_COMPLETE);
    const values = log.filter((r) => r.packet.code === Command.UI_SET_GAUGE_VALUE);
    expect(size >= 0, 'no UI_SET_GAUGE_SIZE before SYSTEM_STATE_IDLE');
    expect(values.length > 0, 'no UI_SET_GAUGE_VALUE before SYSTEM_STATE_IDLE');
    expect(stack >= 0, 'no CAMERA_STACK_COMPLETE before SYSTEM_STATE_IDLE');
    const gaugeMax = (log[size] as (typeof log)[number]).packet.int32Data0;
    expect(gaugeMax === planes, `UI_SET_GAUGE_SIZE is ${gaugeMax}, expected ${planes} (the planes of the stack)`);
    const firstValue = (values[0] as (typeof values)[number]).index - from;
    const lastValue = (values[values.length - 1] as (typeof values)[number]).index - from;
    expect(size < firstValue, 'a UI_SET_GAUGE_VALUE came before UI_SET_GAUGE_SIZE');
    expect(lastValue < stack, 'a UI_SET_GAUGE_VALUE came after CAMERA_STACK_COMPLETE');
    const v = values.map((r) => r.packet.int32Data0);
    expect(v.every((x, i) => i === 0 || x >= (v[i - 1] as number)), `gauge values go backwards: ${v.join(', ')}`);
    expect(v[v.length - 1] === gaugeMax, `last gauge value is ${v[v.length - 1]}, gauge size ${gaugeMax}`);
    const done = (log[stack] as (typeof log)[number]).packet;
    expect(done.int32Data1 === planes, `CAMERA_STACK_COMPLETE expected-images is ${done.int32Data1}, expected ${planes}`);
    expect(done.int32Data0 === planes && done.int32Data2 === 0, `CAMERA_STACK_COMPLETE reports ${done.int32Data0}/${done.int32Data1} images, ${done.int32Data2} errors`);
    const state = await ctx.requestOk(conn, systemState);
    expect(state.int32Data0 === 0, `SYSTEM_STATE_GET after SYSTEM_STATE_IDLE reports ${state.int32Data0}, expected 0 (idle)`);
    return pass(`${planes} planes: gauge size ${gaugeMax}, ${v.length} gauge values, STACK_COMPLETE ${done.int32Data0}/${done.int32Data1} (0 errors), then SYSTEM_STATE_IDLE`);
  },
};

/** Two clients at once are each answered, and only with their own replies. */
const twoClients: ConformanceCheck = {
  name: 'two-clients',
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
    await a.waitFor((p) => p.code === Command.LASER_LEVEL_GET, { from: fromA, timeoutMs: ctx.timings.replyTimeoutMs * 2, what: 'the first connection’s replies' });
    await b.waitFor((p) => p.code === Command.CAMERA_IMAGE_SIZE_GET, { from: fromB, timeoutMs: ctx.timings.replyTimeoutMs * 2, what: 'the second connection’s replies' });
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
