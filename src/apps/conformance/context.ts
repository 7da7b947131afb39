import { joinBytes } from '../../../protocol/bytes.js';
import { FENCE_CODES } from '../../../protocol/domain.js';
import { dataText } from '../../../protocol/codec.js';
import { Command, commandName } from '../../../protocol/commands.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import type { Packet, PacketInit } from '../../../protocol/packet.js';
import { parseLaserLevel } from '../../../protocol/laser-level.js';
import { decodeTextPayload, moveRange, parseTextFormat, readStageSettings, stageAxisList, type StageSettings } from '../../../protocol/text-format.js';
import { buildWorkflowText } from '../../../protocol/workflow-text.js';
import { replyCodeOf } from '../../../protocol/command-profile.js';
import { readSystemState, type SystemStateReading } from '../../../protocol/system-state.js';
import { describePacket, encodeWithCallback, isReplyTo, ProbeConnection, type Received } from './probe.js';

/** Travel limits of one axis, and where they came from. */
export interface AxisLimits {
  min: number;
  max: number;
}

/**
 * Limits of one real instrument (spec/protocol.md, "Stage"), used when the server's
 * settings text has no readable `Stage limits` section.
 */
export const CONVENTION_LIMITS: readonly AxisLimits[] = [
  { min: 1, max: 15 },
  { min: 5, max: 25 },
  { min: 8, max: 25 },
  { min: -720, max: 720 },
];

/** Move ranges from a settings text's `Stage limits` (soft, else hard, else the conventions). */
export function limitsFromSettings(settings: StageSettings): AxisLimits[] {
  return stageAxisList(settings).map((a, i) => {
    const range = moveRange(a);
    const fallback = CONVENTION_LIMITS[i] as AxisLimits;
    return { min: range.min ?? fallback.min, max: range.max ?? fallback.max };
  });
}

/** Tunables of a conformance run. Every one has a default that suits a real instrument. */
export interface ConformanceTimings {
  /** How long a reply may take (default 2000 ms). */
  replyTimeoutMs: number;
  /** How long to keep listening for a reply that must NOT come (default 250 ms). */
  quietMs: number;
  /** How long a short stage move may take to report STAGE_MOTION_STOPPED (default 15 s). */
  moveTimeoutMs: number;
  /** How long the tiny test workflow may take to reach SYSTEM_STATE_IDLE (default 30 s). */
  workflowTimeoutMs: number;
  /** Upper bound on one whole check; past it the check fails and its connections close (default 60 s). */
  checkTimeoutMs: number;
  /** Length of the short test moves, in mm (default 0.05). */
  moveStepMm: number;
  /** Planes of the test workflow (default 3). */
  workflowPlanes: number;
  /** TCP connect timeout (default 2000 ms). */
  connectTimeoutMs: number;
}

/** What earlier checks learned and later ones use. */
export interface Findings {
  /** The server copies the request's clientId into its reply (sequenced mode possible). */
  echoesSequence?: boolean;
  /** Stage limits, read once (from the settings text, else {@link CONVENTION_LIMITS}). */
  limits?: { axes: readonly AxisLimits[]; source: 'settings' | 'conventions' };
}

/** A check's expectation did not hold; the message is the reason shown in the table. */
export class CheckFailure extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CheckFailure';
  }
}

/** Throw a {@link CheckFailure} with `reason` unless `condition` holds. */
export function expect(condition: boolean, reason: string): asserts condition {
  if (!condition) throw new CheckFailure(reason);
}

/** How to put a list of encoded requests on the wire. */
export type WriteStyle = 'separate' | 'coalesced' | 'bytewise';

/** The parts in one buffer, so that one write hands the server several packets in a single chunk (the 'coalesced' style). */
export const concatBytes = joinBytes;

/**
 * Everything a check needs: the server's address, timings, connections that the runner
 * closes when the check ends (whatever happened), and request helpers built on raw
 * packets. One context per check.
 */
export class CheckContext {
  private readonly connections: ProbeConnection[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
    readonly timings: ConformanceTimings,
    readonly findings: Findings,
  ) {}

  /** Open a raw connection that is closed when the check ends. */
  async connect(): Promise<ProbeConnection> {
    const conn = await ProbeConnection.open({ host: this.host, port: this.port, connectTimeoutMs: this.timings.connectTimeoutMs });
    this.connections.push(conn);
    return conn;
  }

  /** Destroy every connection the check opened (the runner calls this). */
  dispose(): void {
    for (const c of this.connections.splice(0)) c.destroy();
  }

  /**
   * Write one request with TRIGGER_CALL_BACK and wait for its reply: the first later packet
   * with its code that matches it in the command's matcher fields.
   */
  async request(conn: ProbeConnection, init: PacketInit): Promise<Packet> {
    const from = conn.mark;
    await conn.write(encodeWithCallback(init));
    const r = await conn.waitFor((p) => isReplyTo(init, p), { from, timeoutMs: this.timings.replyTimeoutMs, what: `reply to ${describePacket(init)}` });
    return r.packet;
  }

  /** {@link request}, and fail unless the reply's status is 1. */
  async requestOk(conn: ProbeConnection, init: PacketInit): Promise<Packet> {
    const reply = await this.request(conn, init);
    expect(reply.status === STATUS_OK, `${describePacket(init)} answered with status ${reply.status}, expected ${STATUS_OK}`);
    return reply;
  }

  /**
   * Send `requests` (written as `style` says), then a fence request of another code, and
   * return the replies that came before the fence's reply. Fails unless they are exactly
   * one reply per request, in request order: a server answers in order (spec/protocol.md §5.1),
   * so anything missing, extra or reordered shows up before the fence.
   */
  async exchange(conn: ProbeConnection, requests: readonly PacketInit[], style: WriteStyle): Promise<Packet[]> {
    const codes = new Set(requests.map((r) => replyCodeOf(r.code ?? 0)));
    const fenceCode = FENCE_CODES.find((c) => !codes.has(c) && !requests.some((r) => r.code === c)) as number;
    const fence: PacketInit = { code: fenceCode };
    const encoded = requests.map(encodeWithCallback);
    const from = conn.mark;
    if (style === 'coalesced') {
      await conn.write(concatBytes([...encoded, encodeWithCallback(fence)]));
    } else {
      for (const bytes of encoded) {
        if (style === 'bytewise') await conn.writeBytewise(bytes);
        else await conn.write(bytes);
      }
      await conn.write(encodeWithCallback(fence));
    }
    const fenceReply: Received = await conn.waitFor((p) => p.code === fenceCode, {
      from,
      timeoutMs: this.timings.replyTimeoutMs * (requests.length + 1),
      what: `reply to the fence ${commandName(fenceCode)} sent after ${requests.map(describePacket).join(', ')}`,
    });
    const got = conn.since(from, (p) => codes.has(p.code), fenceReply.index);
    const ok = got.length === requests.length && requests.every((r, i) => isReplyTo(r, got[i] as Packet));
    expect(
      ok,
      `expected replies ${requests.map(describePacket).join(', ')} before the fence; got ${got.length === 0 ? 'none' : got.map(describePacket).join(', ')}`,
    );
    return got;
  }

  /** Read one axis position (status must be 1). */
  async position(conn: ProbeConnection, axis: number): Promise<number> {
    const reply = await this.requestOk(conn, { code: Command.STAGE_POSITION_GET, int32Data0: axis });
    expect(Number.isFinite(reply.value), `STAGE_POSITION_GET(axis ${axis}) returned ${reply.value}`);
    return reply.value;
  }

  /**
   * Move one axis and wait for its STAGE_MOTION_STOPPED. The wait is armed before the move
   * is written (its log position is taken first), so an event that beats the reply counts.
   */
  async move(conn: ProbeConnection, axis: number, target: number): Promise<{ reply: Packet; stopped: Packet; elapsedMs: number }> {
    const from = conn.mark;
    const started = performance.now();
    const reply = await this.request(conn, { code: Command.STAGE_POSITION_SET, int32Data0: axis, value: target });
    expect(reply.status === STATUS_OK, `STAGE_POSITION_SET(axis ${axis}, ${target}) refused with status ${reply.status}`);
    const stopped = await conn.waitFor((p) => p.code === Command.STAGE_MOTION_STOPPED && p.int32Data0 === axis, {
      from,
      timeoutMs: this.timings.moveTimeoutMs,
      what: `STAGE_MOTION_STOPPED for axis ${axis} after a move to ${target}`,
    });
    return { reply, stopped: stopped.packet, elapsedMs: performance.now() - started };
  }

  /** Stage limits: from the settings text once, else the instrument conventions. */
  async limits(conn: ProbeConnection): Promise<NonNullable<Findings['limits']>> {
    if (this.findings.limits !== undefined) return this.findings.limits;
    let found: NonNullable<Findings['limits']> = { axes: CONVENTION_LIMITS, source: 'conventions' };
    try {
      const [reply] = await this.exchange(conn, [{ code: Command.COMMON_SCOPE_SETTINGS_LOAD }], 'coalesced');
      if (reply?.payload !== undefined) {
        const axes = limitsFromSettings(readStageSettings(parseTextFormat(decodeTextPayload(reply.payload))));
        found = { axes, source: 'settings' };
      }
    } catch {
      // No readable settings: the conventions are the safe fallback (moves are tiny anyway).
    }
    this.findings.limits = found;
    return found;
  }

  /** A target `step` away from `from`, inside the axis limits (towards the middle when at an edge). */
  async nearbyTarget(conn: ProbeConnection, axis: number, from: number): Promise<number> {
    const { axes } = await this.limits(conn);
    const limit = axes[axis - 1] ?? (CONVENTION_LIMITS[axis - 1] as AxisLimits);
    const step = this.timings.moveStepMm;
    expect(from >= limit.min && from <= limit.max, `axis ${axis} is at ${from}, outside its limits ${limit.min}..${limit.max}`);
    return from + step <= limit.max ? from + step : from - step;
  }

  /** SYSTEM_STATE_GET read as the instrument answers it (0xA002 idle, any other state code busy). */
  async systemState(conn: ProbeConnection): Promise<SystemStateReading> {
    return readSystemState((await this.request(conn, { code: Command.SYSTEM_STATE_GET })).int32Data0);
  }

  /**
   * Wait until the system reads idle (a workflow left running ends first): polls
   * SYSTEM_STATE_GET every `quietMs`, since an idle push can be stale (spec/protocol.md).
   */
  async ensureIdle(conn: ProbeConnection): Promise<void> {
    const deadline = performance.now() + this.timings.workflowTimeoutMs;
    for (;;) {
      const reading = await this.systemState(conn);
      if (reading.state === 'idle') return;
      expect(performance.now() < deadline, `SYSTEM_STATE_GET still reads busy (state ${reading.code}) after ${this.timings.workflowTimeoutMs} ms`);
      await conn.listen(this.timings.quietMs);
    }
  }

  /**
   * A tiny workflow text at the stage's current position, using laser 2 at its current
   * level, so running it moves nothing far and changes no setting.
   */
  async workflowText(conn: ProbeConnection, planes: number): Promise<string> {
    const [x, y, z, r] = [await this.position(conn, 1), await this.position(conn, 2), await this.position(conn, 3), await this.position(conn, 4)];
    const laser = await this.request(conn, { code: Command.LASER_LEVEL_GET, int32Data0: 2 });
    const level = parseLaserLevel(dataText(laser));
    const power = laser.status === STATUS_OK && level !== undefined ? level : 5;
    const { axes } = await this.limits(conn);
    const spacingUm = 2.5;
    const depthMm = ((planes - 1) * spacingUm) / 1000;
    const zMax = axes[2]?.max ?? Infinity;
    const endZ = z + depthMm <= zMax ? z + depthMm : z - depthMm;
    return buildWorkflowText({
      numberOfPlanes: planes,
      planeSpacingUm: spacingUm,
      start: { x, y, z, r },
      end: { x, y, z: endZ, r },
      lasers: [{ index: 2, name: '488 nm MLE', power, on: true }],
      comments: 'flamingo conform test stack',
    });
  }
}
