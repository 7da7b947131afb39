import { dataText } from '../../../protocol/codec.js';
import { Command } from '../../../protocol/commands.js';
import { STATUS_FAILED, STATUS_OK } from '../../../protocol/constants.js';
import { readSystemState } from '../../../protocol/system-state.js';
import { hex, laserLevel, mm, pass, POSITION_TOLERANCE, systemState, type ConformanceCheck } from './check-kit.js';
import { expect } from './context.js';
import { encodeWithCallback } from './probe.js';

/*
 * Observed checks: behaviour recorded on the instrument, each citing its evidence (the
 * sections of spec/protocol.md's sources). None fails what the instrument was seen doing;
 * what the evidence leaves open is reported in the reason, not required.
 */

/** Laser levels read back quantised (10.00 reads like 10.55): percentage points allowed. */
const LEVEL_TOLERANCE = 1;

/** An idle instrument answers SYSTEM_STATE_GET with status 1 and int32Data0 0xA002. */
export const idleStateCode: ConformanceCheck = {
  name: 'idle-state-code',
  level: 'observed',
  evidence: 'RIG §1a, §2 (seen twice)',
  title: 'idle: SYSTEM_STATE_GET answers status 1, int32Data0 0xA002 (SYSTEM_STATE_IDLE)',
  async run(ctx) {
    const conn = await ctx.connect();
    await ctx.ensureIdle(conn);
    const reply = await ctx.requestOk(conn, systemState);
    expect(reply.int32Data0 === Command.SYSTEM_STATE_IDLE, `idle SYSTEM_STATE_GET reads ${hex(reply.int32Data0)}, the instrument answers 0x0000A002`);
    return pass('idle state reads 0xA002 with status 1');
  },
};

/** A short move: acked with the axis, then STAGE_MOTION_STOPPED status 1; the position reads the target. */
export const motionStopped: ConformanceCheck = {
  name: 'motion-stopped',
  level: 'observed',
  evidence: 'RIG §1e, §4 (ack with axis); LOG §4 (motion stopped, status 1)',
  title: 'a short move: ack with the axis, then STAGE_MOTION_STOPPED status 1; position reads the target',
  async run(ctx) {
    const conn = await ctx.connect();
    const axis = 1;
    const origin = await ctx.position(conn, axis);
    const target = await ctx.nearbyTarget(conn, axis, origin);
    const out = await ctx.move(conn, axis, target);
    expect(out.reply.int32Data0 === axis, `STAGE_POSITION_SET reply int32Data0 is ${out.reply.int32Data0}, expected the axis ${axis}`);
    expect(out.stopped.status === STATUS_OK, `STAGE_MOTION_STOPPED status ${out.stopped.status}, expected 1 (target reached)`);
    const reached = await ctx.position(conn, axis);
    expect(Math.abs(reached - target) <= POSITION_TOLERANCE, `position after the move is ${reached}, expected ${target}`);
    const back = await ctx.move(conn, axis, origin);
    expect(back.stopped.status === STATUS_OK, `moving back: STAGE_MOTION_STOPPED status ${back.stopped.status}`);
    return pass(`X ${mm(origin)} → ${mm(target)} → ${mm(origin)} mm: STAGE_MOTION_STOPPED status 1 both ways (event value ${mm(out.stopped.value)})`);
  },
};

/** Not recorded on the instrument: the simulator's choice, reported only. */
export const zeroLengthMove: ConformanceCheck = {
  name: 'zero-length-move',
  level: 'extension',
  title: 'a move to the current position still sends STAGE_MOTION_STOPPED (simulator choice)',
  async run(ctx) {
    const conn = await ctx.connect();
    const axis = 2;
    const here = await ctx.position(conn, axis);
    const out = await ctx.move(conn, axis, here);
    expect(out.stopped.status === STATUS_OK, `STAGE_MOTION_STOPPED status ${out.stopped.status}, expected 1`);
    return { status: 'info', reason: `Y to its own position ${mm(here)} mm: STAGE_MOTION_STOPPED status 1` };
  },
};

/** Unsolicited events go to every connected client, not only the one that caused them. */
export const eventsToAll: ConformanceCheck = {
  name: 'events-to-all-clients',
  level: 'observed',
  evidence: 'LOG §9 (two clients served); SRC §2 (state changes broadcast)',
  title: 'STAGE_MOTION_STOPPED reaches every connected client, not only the mover',
  async run(ctx) {
    const mover = await ctx.connect();
    const watcher = await ctx.connect();
    // A round trip proves the server has registered the watcher before the move.
    await ctx.requestOk(watcher, systemState);
    const axis = 3;
    const watchFrom = watcher.mark;
    const here = await ctx.position(mover, axis);
    const target = await ctx.nearbyTarget(mover, axis, here);
    await ctx.move(mover, axis, target);
    await watcher.waitFor((p) => p.code === Command.STAGE_MOTION_STOPPED, {
      from: watchFrom,
      timeoutMs: ctx.timings.moveTimeoutMs,
      what: 'STAGE_MOTION_STOPPED on the second connection',
    });
    await ctx.move(mover, axis, here);
    return pass(`Z move on one connection (${mm(here)} → ${mm(target)} mm): STAGE_MOTION_STOPPED arrived on both`);
  },
};

/** LASER_LEVEL_SET is never acknowledged; the level reads back, quantised. */
export const laserLevelText: ConformanceCheck = {
  name: 'laser-level',
  level: 'observed',
  evidence: 'LOG §1b, §5 (no same-code reply; level text); RIG §5 (quantised read-back)',
  title: `LASER_LEVEL_SET "x.xx" (no reply expected), then LASER_LEVEL_GET reads it within ${LEVEL_TOLERANCE} point (then restored)`,
  async run(ctx) {
    const conn = await ctx.connect();
    const laser = 1;
    const before = dataText(await ctx.requestOk(conn, laserLevel(laser))).trim();
    expect(Number.isFinite(Number(before)) && before !== '', `LASER_LEVEL_GET(${laser}) data is "${before}", expected a number as text`);
    const wanted = Math.abs(Number(before) - 7.25) < 2 ? '12.50' : '7.25';
    const setAt = conn.mark;
    let read = '';
    try {
      await conn.write(encodeWithCallback({ code: Command.LASER_LEVEL_SET, int32Data0: laser, data: wanted }));
      read = dataText(await ctx.requestOk(conn, laserLevel(laser))).trim();
      expect(Math.abs(Number(read) - Number(wanted)) <= LEVEL_TOLERANCE, `after setting "${wanted}", LASER_LEVEL_GET returned "${read}"`);
    } finally {
      // Leave the instrument as found, even when the check failed half-way.
      await conn.write(encodeWithCallback({ code: Command.LASER_LEVEL_SET, int32Data0: laser, data: Number(before).toFixed(2) })).catch(() => undefined);
    }
    const acked = conn.since(setAt, (p) => p.code === Command.LASER_LEVEL_SET).length;
    const restored = dataText(await ctx.requestOk(conn, laserLevel(laser))).trim();
    expect(Math.abs(Number(restored) - Number(before)) <= LEVEL_TOLERANCE, `restoring "${before}" read back "${restored}"`);
    const ack = acked === 0 ? 'no LASER_LEVEL_SET answer (as observed)' : `${acked} LASER_LEVEL_SET answers (the instrument sends none)`;
    return pass(`laser ${laser}: "${before}" → set "${wanted}" → read "${read}" → restored "${restored}"; ${ack}`);
  },
};

/** A laser that is not there is reported, not answered with a level. */
export const laserBadIndex: ConformanceCheck = {
  name: 'laser-bad-index',
  level: 'observed',
  evidence: 'RIG §1b ("getLevel error" for a laser off or not fitted)',
  title: 'LASER_LEVEL_GET for laser 99 answers status 0 or "getLevel error"',
  async run(ctx) {
    const conn = await ctx.connect();
    const reply = await ctx.request(conn, laserLevel(99));
    const text = dataText(reply).trim();
    expect(reply.status === STATUS_FAILED || text === 'getLevel error', `laser 99 answered status ${reply.status} with "${text}"`);
    await ctx.requestOk(conn, systemState);
    return pass(`laser 99: status ${reply.status}, data "${text}"; the connection still answers`);
  },
};

/**
 * A workflow as the instrument plays it: no answer to WORKFLOW_START; gauge values while it
 * runs (not for Tile runs, so the check uses a Z stack); an idle push once it ends, after
 * the first gauge value (an earlier one is stale); SYSTEM_STATE_GET reads idle after.
 */
export const workflowEvents: ConformanceCheck = {
  name: 'workflow-events',
  level: 'observed',
  evidence: 'RIG §3.2, §3.3 (gauge values, idle push at the end, stale idle possible); LOG §3.1 (framing)',
  title: 'a Z-stack workflow pushes gauge values, then SYSTEM_STATE_IDLE; SYSTEM_STATE_GET reads idle after',
  async run(ctx) {
    const conn = await ctx.connect();
    await ctx.ensureIdle(conn);
    const planes = ctx.timings.workflowPlanes;
    const payload = new TextEncoder().encode(await ctx.workflowText(conn, planes));
    const from = conn.mark;
    await conn.write(encodeWithCallback({ code: Command.CAMERA_WORKFLOW_START, payload }));
    const gauge = await conn.waitFor((p) => p.code === Command.UI_SET_GAUGE_VALUE, {
      from,
      timeoutMs: ctx.timings.workflowTimeoutMs,
      what: `a gauge value after a ${planes}-plane workflow started`,
    });
    const idle = await conn.waitFor((p) => p.code === Command.SYSTEM_STATE_IDLE, {
      from: gauge.index + 1,
      timeoutMs: ctx.timings.workflowTimeoutMs,
      what: 'SYSTEM_STATE_IDLE after the run',
    });
    const log = conn.log.slice(from, idle.index + 1).map((r) => r.packet);
    const values = log.filter((p) => p.code === Command.UI_SET_GAUGE_VALUE).map((p) => p.int32Data0);
    expect(
      values.every((x, i) => i === 0 || x >= (values[i - 1] as number)),
      `gauge values go backwards: ${values.join(', ')}`,
    );
    expect(!log.some((p) => p.code === Command.CAMERA_WORKFLOW_START), 'WORKFLOW_START was answered; the instrument sends no answer to it');
    const state = readSystemState((await ctx.requestOk(conn, systemState)).int32Data0);
    expect(state.state === 'idle', `SYSTEM_STATE_GET after SYSTEM_STATE_IDLE reads ${hex(state.code)}, expected idle (0xA002)`);
    const stale = log.findIndex((p) => p.code === Command.SYSTEM_STATE_IDLE) < log.findIndex((p) => p.code === Command.UI_SET_GAUGE_VALUE);
    const expected = log.filter((p) => p.code === Command.UI_SET_GAUGE_VALUE).at(-1)?.int32Data1 ?? 0;
    const stacks = log.filter((p) => p.code === Command.CAMERA_STACK_COMPLETE).length;
    return pass(
      `${planes} planes: ${values.length} gauge values (last ${values.at(-1)}/${expected}), ${stacks} stack-complete, ` +
        `${stale ? 'a stale idle push before the first gauge value, ' : ''}then SYSTEM_STATE_IDLE; idle after`,
    );
  },
};
