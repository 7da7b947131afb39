/** Conformance checks of the instrument's behaviour: motion, events, lasers, workflows, several clients, hostile input. */
import { dataText, encodePacket } from '../../../protocol/codec.js';
import { Command } from '../../../protocol/commands.js';
import { STATUS_FAILED, STATUS_OK } from '../../../protocol/constants.js';
import { Flags } from '../../../protocol/flags.js';
import { concatBytes, expect } from './context.js';
import { parseLaserLevel } from '../../../protocol/laser-level.js';
import { encodeWithCallback } from './probe.js';
import { type ConformanceCheck, hex, laserLevel, mm, pass, POSITION_TOLERANCE, stagePosition, systemState } from './check-kit.js';

/** A short move ends with STAGE_MOTION_STOPPED at the target; moving back does too. */
export const motionStopped: ConformanceCheck = {
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
export const zeroLengthMove: ConformanceCheck = {
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
export const eventsToAll: ConformanceCheck = {
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
export const laserLevelText: ConformanceCheck = {
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
export const laserBadIndex: ConformanceCheck = {
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
export const workflowEvents: ConformanceCheck = {
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
export const twoClients: ConformanceCheck = {
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
export const halfPacketClose: ConformanceCheck = {
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
export const absurdPayloadClaim: ConformanceCheck = {
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
