import { Command, dataText, decodePacket, encodePacket, type Packet, type PacketInit } from 'flamingo-protocol';

/**
 * An independent, deliberately plain reference model of spec/state.md for the property
 * tests: one mutable object and a switch, written without the library's reducers or
 * helpers, so a shared mistake is unlikely. The tests feed the model and the mirror the
 * same steps and compare after every one.
 */

type Axis = { position?: number; moving?: boolean; target?: number; reached?: boolean };
type Laser = { level?: number; enabled?: boolean };

export interface ModelView {
  connection: { state: string | undefined; mode: string | undefined };
  stage: { x: Axis; y: Axis; z: Axis; r: Axis };
  lasers: { 1: Laser; 2: Laser; 3: Laser; 4: Laser };
  led: { index: number | undefined; level: number | undefined; enabled: boolean | undefined };
  camera: { exposureUs: number | undefined; width: number | undefined; height: number | undefined; pixelSizeMm: number | undefined; live: boolean | undefined };
  illumination: { left: boolean | undefined; right: boolean | undefined };
  filterPosition: number | undefined;
  system: string | undefined;
  workflow: {
    running: boolean | undefined;
    gaugeSize: number | undefined;
    gaugeValue: number | undefined;
    imagesSaved: number | undefined;
    stackComplete: { acquired: number; expected: number; errors: number; durationUs: number | undefined } | undefined;
  };
}

const NAMES = ['', 'x', 'y', 'z', 'r'] as const;

function axisName(n: number): 'x' | 'y' | 'z' | 'r' | undefined {
  return n >= 1 && n <= 4 && Number.isInteger(n) ? (NAMES[n] as 'x' | 'y' | 'z' | 'r') : undefined;
}

function laserKey(n: number): 1 | 2 | 3 | 4 | undefined {
  return n >= 1 && n <= 4 && Number.isInteger(n) ? (n as 1 | 2 | 3 | 4) : undefined;
}

function levelOf(text: string): number | undefined {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(t)) return undefined;
  return Number(t);
}

function textOf(data: PacketInit['data']): string {
  if (data === undefined) return '';
  const s = typeof data === 'string' ? data : new TextDecoder().decode(data);
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

function fresh(): ModelView {
  const axis = (): Axis => ({ position: undefined, moving: undefined, target: undefined, reached: undefined });
  const laser = (): Laser => ({ level: undefined, enabled: undefined });
  return {
    connection: { state: undefined, mode: undefined },
    stage: { x: axis(), y: axis(), z: axis(), r: axis() },
    lasers: { 1: laser(), 2: laser(), 3: laser(), 4: laser() },
    led: { index: undefined, level: undefined, enabled: undefined },
    camera: { exposureUs: undefined, width: undefined, height: undefined, pixelSizeMm: undefined, live: undefined },
    illumination: { left: undefined, right: undefined },
    filterPosition: undefined,
    system: undefined,
    workflow: { running: undefined, gaugeSize: undefined, gaugeValue: undefined, imagesSaved: undefined, stackComplete: undefined },
  };
}

/** How often the model took each notable path (the property test checks every one is reached). */
export const coverage = {
  ackAfterEarlyStop: 0,
  ackStartsMove: 0,
  homeAck: 0,
  refusedMove: 0,
  laserPush: 0,
  laserPushFailedStatus: 0,
  ledPush: 0,
  newRun: 0,
  idle: 0,
  stackCompleteIgnoredAsReply: 0,
  allLasersDisabledSent: 0,
};

interface Pending {
  axes: number[];
  target: number | undefined;
  ended: Set<number>;
}

export class ReferenceModel {
  view: ModelView = fresh();
  private pending = new Map<PacketInit, Pending>();
  private latest = new Map<number, Pending>();

  sent(request: PacketInit): void {
    const code = request.code;
    if (code === Command.STAGE_POSITION_SET || code === Command.STAGE_POSITION_SET_SLIDER) {
      const a = request.int32Data0 ?? 0;
      if (axisName(a) === undefined) return;
      const p: Pending = { axes: [a], target: request.value ?? 0, ended: new Set() };
      this.pending.set(request, p);
      this.latest.set(a, p);
    } else if (code === Command.STAGE_HOME) {
      const p: Pending = { axes: [1, 2, 3, 4], target: undefined, ended: new Set() };
      this.pending.set(request, p);
      for (const a of p.axes) this.latest.set(a, p);
    } else if (code === Command.LASER_ALL_DISABLE) {
      for (const k of [1, 2, 3, 4] as const) this.view.lasers[k].enabled = false;
      coverage.allLasersDisabledSent++;
    } else if (code === Command.LASER_PREVIEW_ENABLE) {
      // Never acknowledged: applied when written; the instrument switches the other lines off.
      const k = laserKey(request.int32Data0 ?? 0);
      if (k === undefined) return;
      for (const j of [1, 2, 3, 4] as const) this.view.lasers[j].enabled = j === k;
    }
  }

  connection(state: string, mode?: string): void {
    this.view.connection.state = state;
    if (mode !== undefined) this.view.connection.mode = mode;
  }

  private startRunIfNeeded(): void {
    this.view.system = 'busy';
    if (this.view.workflow.running !== true) {
      coverage.newRun++;
      this.view.workflow = { running: true, gaugeSize: undefined, gaugeValue: undefined, imagesSaved: undefined, stackComplete: undefined };
    }
  }

  private takeAck(request: PacketInit): Pending | undefined {
    const p = this.pending.get(request);
    if (p === undefined) return undefined;
    this.pending.delete(request);
    for (const a of p.axes) if (this.latest.get(a) === p) this.latest.delete(a);
    return p;
  }

  packet(p: Packet, request: PacketInit | undefined): void {
    const v = this.view;
    const ok = p.status === 1;
    const reqIndex = request === undefined ? p.int32Data0 : (request.int32Data0 ?? 0);
    switch (p.code) {
      case Command.STAGE_POSITION_GET: {
        const name = axisName(reqIndex);
        if (ok && name !== undefined && Number.isFinite(p.value)) v.stage[name].position = p.value;
        break;
      }
      case Command.STAGE_POSITION_SET:
      case Command.STAGE_POSITION_SET_SLIDER: {
        if (request === undefined) break;
        const pend = this.takeAck(request);
        const a = request.int32Data0 ?? 0;
        const name = axisName(a);
        const target = request.value ?? 0;
        if (!ok) coverage.refusedMove++;
        if (!ok || name === undefined || !Number.isFinite(target)) break;
        if (pend?.ended.has(a)) {
          coverage.ackAfterEarlyStop++;
          v.stage[name].target = target;
        } else {
          coverage.ackStartsMove++;
          v.stage[name].moving = true;
          v.stage[name].target = target;
          v.stage[name].reached = undefined;
        }
        break;
      }
      case Command.STAGE_HOME: {
        if (request === undefined) break;
        const pend = this.takeAck(request);
        if (!ok) break;
        coverage.homeAck++;
        for (const a of [1, 2, 3, 4]) {
          if (pend?.ended.has(a)) continue;
          const ax = v.stage[axisName(a)!];
          ax.moving = true;
          ax.target = undefined;
          ax.reached = undefined;
        }
        break;
      }
      case Command.STAGE_MOTION_STOPPED: {
        const name = axisName(p.int32Data0);
        if (name === undefined) break;
        const pend = this.latest.get(p.int32Data0);
        const finiteValue = Number.isFinite(p.value);
        if (pend !== undefined) {
          const homing = pend.target === undefined;
          const hit = ok && finiteValue && pend.target !== undefined && Math.abs(p.value - pend.target) <= 1e-6;
          if (homing || hit) {
            pend.ended.add(p.int32Data0);
            this.latest.delete(p.int32Data0);
          }
        }
        v.stage[name].moving = false;
        v.stage[name].reached = ok;
        if (finiteValue) v.stage[name].position = p.value;
        break;
      }
      case Command.LASER_LEVEL_GET: {
        if (request !== undefined && !ok) break;
        const k = laserKey(reqIndex);
        const level = levelOf(dataText(p));
        if (k !== undefined && level !== undefined) {
          if (request === undefined) coverage.laserPush++;
          if (request === undefined && !ok) coverage.laserPushFailedStatus++;
          v.lasers[k].level = level;
        }
        break;
      }
      case Command.LASER_LEVEL_SET: {
        if (request === undefined || !ok) break;
        const k = laserKey(request.int32Data0 ?? 0);
        const level = levelOf(textOf(request.data));
        if (k !== undefined && level !== undefined) v.lasers[k].level = level;
        break;
      }
      case Command.LASER_PREVIEW_ENABLE:
      case Command.LASER_PREVIEW_DISABLE: {
        if (request === undefined || !ok) break;
        const k = laserKey(request.int32Data0 ?? 0);
        if (k !== undefined) v.lasers[k].enabled = p.code === Command.LASER_PREVIEW_ENABLE;
        break;
      }
      case Command.LASER_ALL_DISABLE:
        if (ok) for (const k of [1, 2, 3, 4] as const) v.lasers[k].enabled = false;
        break;
      case Command.LED_SET:
        if (ok) {
          v.led.index = request === undefined ? p.int32Data0 : (request.int32Data0 ?? 0);
          v.led.level = request === undefined ? p.int32Data1 : (request.int32Data1 ?? 0);
        }
        break;
      case Command.LED_ENABLE:
        if (ok) {
          if (request !== undefined) v.led.index = request.int32Data0 ?? 0;
          v.led.enabled = true;
        }
        break;
      case Command.CAMERA_LIVE_VIEW_START:
        if (ok) v.camera.live = true;
        break;
      case Command.CAMERA_LIVE_VIEW_STOP:
        v.camera.live = false;
        break;
      case Command.ILLUMINATION_LEFT_ENABLE:
      case Command.ILLUMINATION_LEFT_DISABLE:
        if (ok) v.illumination.left = p.code === Command.ILLUMINATION_LEFT_ENABLE;
        break;
      case Command.ILLUMINATION_RIGHT_ENABLE:
      case Command.ILLUMINATION_RIGHT_DISABLE:
        if (ok) v.illumination.right = p.code === Command.ILLUMINATION_RIGHT_ENABLE;
        break;
      case Command.LED_DISABLE:
        if (request === undefined) {
          coverage.ledPush++;
          v.led.enabled = false;
        } else if (ok) {
          v.led.index = request.int32Data0 ?? 0;
          v.led.enabled = false;
        }
        break;
      case Command.CAMERA_EXPOSURE_GET:
        if (ok) v.camera.exposureUs = p.int32Data0;
        break;
      case Command.CAMERA_EXPOSURE_SET:
        if (request !== undefined && ok) v.camera.exposureUs = request.int32Data0 ?? 0;
        break;
      case Command.CAMERA_IMAGE_SIZE_GET:
        if (ok) {
          v.camera.width = p.int32Data0;
          v.camera.height = p.int32Data1;
        }
        break;
      case Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET:
        if (ok && Number.isFinite(p.value)) v.camera.pixelSizeMm = p.value;
        break;
      case Command.FILTER_POSITION_GET:
        if (ok) v.filterPosition = p.int32Data0;
        break;
      case Command.FILTER_POSITION_SET:
        if (request !== undefined && ok) v.filterPosition = request.int32Data0 ?? 0;
        break;
      case Command.SYSTEM_STATE_GET:
        // 0xA002 (or 0) idle, any other state code busy, whatever the status (spec/protocol.md §5.4).
        if (p.int32Data0 === 0xa002 || p.int32Data0 === 0) {
          v.system = 'idle';
          v.workflow.running = false;
        } else v.system = 'busy';
        break;
      case Command.SYSTEM_STATE_IDLE:
        coverage.idle++;
        v.system = 'idle';
        v.workflow.running = false;
        break;
      case Command.CAMERA_WORKFLOW_START:
        if (ok) this.startRunIfNeeded();
        break;
      case Command.UI_SET_GAUGE_SIZE:
        this.startRunIfNeeded();
        v.workflow.gaugeSize = p.int32Data0;
        break;
      case Command.UI_SET_GAUGE_VALUE:
        this.startRunIfNeeded();
        v.workflow.gaugeValue = p.int32Data0;
        break;
      case Command.UI_IMAGES_SAVED_TO_STORAGE:
        this.startRunIfNeeded();
        v.workflow.imagesSaved = p.int32Data0;
        break;
      case Command.CAMERA_STACK_COMPLETE:
        if (request !== undefined) {
          coverage.stackCompleteIgnoredAsReply++;
          break;
        }
        this.startRunIfNeeded();
        v.workflow.stackComplete = {
          acquired: p.int32Data0,
          expected: p.int32Data1,
          errors: p.int32Data2,
          durationUs: Number.isFinite(p.value) ? p.value : undefined,
        };
        break;
      default:
        break;
    }
  }
}

/** A real decoded packet (through the codec), as the reader would hand it over. */
export function wire(init: PacketInit): Packet {
  return decodePacket(encodePacket(init));
}

/** Structural equality that treats undefined fields as present and -0 as 0 (as the mirror does). */
export function sameView(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameView((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Deep copy of the model view, so "before" survives the model's in-place updates. */
export function copyView(v: ModelView): ModelView {
  return structuredClone(v);
}

/** Every object reachable from `value` is frozen. */
export function isDeeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  return Object.values(value).every(isDeeplyFrozen);
}
