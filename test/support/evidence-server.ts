import { encodePacket } from '../../protocol/codec.js';
import { Command } from '../../protocol/commands.js';
import { Deframer } from '../../protocol/deframer.js';
import type { Packet, PacketInit } from '../../protocol/packet.js';
import { listenTcp, type TcpListener, type TcpTransport } from '../../transports/tcp.js';
import { INSTRUMENT_SETTINGS_TEXT } from '../../mocks/instrument-settings-text.js';

/**
 * A scripted server that behaves only as the instrument evidence describes
 * (spec/protocol.md "Behaviour profile"), written independently of the simulator so that
 * the client and `flamingo conform` are tested against the evidence, not against our own
 * model: no sequence echo; SYSTEM_STATE_GET, WORKFLOW_STOP, PIXEL_FIELD_OF_VIEW_GET and
 * SCOPE_SETTINGS_LOAD answered with or without the flag; idle = 0xA002; the settings
 * answered by a 0x1007 packet with addDataBytes 0 and the bare text after it; laser set,
 * preview enable, all-disable and WORKFLOW_START never answered; laser levels quantised;
 * STAGE_POSITION_GET unanswered during a run and 0.000 while moving; a workflow pushes
 * LED_DISABLE and the laser level, a stale idle, gauge values (int32Data1 = expected),
 * then idle, and no stack-complete; no motion-stopped for a zero-length move (not recorded).
 */
export interface EvidenceServer {
  readonly port: number;
  /** Packets received, in order, over every connection. */
  readonly received: Packet[];
  close(): Promise<void>;
}

const FLAG = 0x80000000;
const IDLE = Command.SYSTEM_STATE_IDLE;
/** A busy state code; the real numbers are not recorded. */
const BUSY = 0xa005;
const utf8 = new TextEncoder();

/** Options: how long a move and a plane take (ms). */
export interface EvidenceServerOptions {
  moveMs?: number;
  planeMs?: number;
}

export async function startEvidenceServer(options: EvidenceServerOptions = {}): Promise<EvidenceServer> {
  const moveMs = options.moveMs ?? 20;
  const planeMs = options.planeMs ?? 5;
  const clients = new Set<TcpTransport>();
  const received: Packet[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const positions = [0, 7.5, 15, 15, 0];
  const moving = [false, false, false, false, false];
  const levels = [0, 5.25, 10.55, 0, 0];
  let running = false;

  const later = (ms: number, f: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    timers.add(t);
  };
  const send = (to: TcpTransport, bytes: Uint8Array): void => void to.write(bytes).catch(() => undefined);
  const broadcast = (init: PacketInit): void => {
    const bytes = encodePacket({ status: 1, ...init });
    for (const c of clients) send(c, bytes);
  };
  // The instrument's read-back differs from the level asked for (10.00 reads like 10.55).
  const quantise = (percent: number): number => Math.round(percent * 1.05 * 100) / 100;

  const runWorkflow = (text: string): void => {
    if (!text.includes('<Workflow Settings>') || running) return;
    const planes = Number(/Number of planes = (\d+)/.exec(text)?.[1] ?? '1');
    broadcast({ code: Command.LED_DISABLE });
    broadcast({ code: Command.LASER_LEVEL_GET, int32Data0: 2, data: levels[2]?.toFixed(2) ?? '0.00' });
    broadcast({ code: IDLE });
    running = true;
    for (let i = 1; i <= planes; i++) later(planeMs * i, () => broadcast({ code: Command.UI_SET_GAUGE_VALUE, int32Data0: i, int32Data1: planes }));
    later(planeMs * (planes + 1), () => {
      running = false;
      broadcast({ code: IDLE });
    });
  };

  /** The answer to `p` (undefined: none), after acting on it. */
  const handle = (p: Packet): PacketInit | Uint8Array | undefined => {
    const flag = (p.cmdDataBits0 & FLAG) !== 0;
    const ack = (fields: PacketInit = {}): PacketInit => ({ code: p.code, status: 1, cmdDataBits0: p.cmdDataBits0, ...fields });
    switch (p.code) {
      case Command.SYSTEM_STATE_GET:
        return ack({ int32Data0: running ? BUSY : IDLE });
      case Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET:
        return ack({ value: 0.000406 });
      case Command.CAMERA_WORKFLOW_STOP:
        return ack();
      case Command.COMMON_SCOPE_SETTINGS_LOAD: {
        const head = encodePacket({ code: Command.COMMON_SCOPE_SETTINGS, status: 1 });
        const text = utf8.encode(INSTRUMENT_SETTINGS_TEXT);
        const out = new Uint8Array(head.length + text.length);
        out.set(head);
        out.set(text, head.length);
        return out;
      }
      case Command.LASER_LEVEL_SET: {
        const level = Number(new TextDecoder().decode(p.data).replace(/\0.*$/s, ''));
        if (p.int32Data0 >= 1 && p.int32Data0 <= 4 && Number.isFinite(level)) levels[p.int32Data0] = quantise(level);
        return undefined;
      }
      case Command.LASER_PREVIEW_ENABLE:
      case Command.LASER_ALL_DISABLE:
      case Command.CAMERA_WORKFLOW_START:
        if (p.code === Command.CAMERA_WORKFLOW_START && p.payload !== undefined) runWorkflow(new TextDecoder().decode(p.payload));
        return undefined;
      default:
    }
    if (!flag) return undefined;
    switch (p.code) {
      case Command.CAMERA_IMAGE_SIZE_GET:
        return ack({ hardwareId: 1, int32Data0: 2048, int32Data1: 2048, value: 6.5 });
      case Command.LASER_LEVEL_GET: {
        const level = levels[p.int32Data0];
        return ack({ int32Data0: p.int32Data0, data: level === undefined || p.int32Data0 < 1 ? 'getLevel error' : level.toFixed(2) });
      }
      case Command.STAGE_POSITION_GET: {
        if (running) return undefined;
        const axis = p.int32Data0;
        return ack({ int32Data0: axis, value: moving[axis] === true ? 0 : (positions[axis] ?? 0) });
      }
      case Command.STAGE_POSITION_SET:
      case Command.STAGE_POSITION_SET_SLIDER: {
        const axis = p.int32Data0;
        if (axis < 1 || axis > 4) return ack({ status: 0 });
        if (positions[axis] !== p.value) {
          moving[axis] = true;
          later(moveMs, () => {
            moving[axis] = false;
            positions[axis] = p.value;
            broadcast({ code: Command.STAGE_MOTION_STOPPED, int32Data0: axis, value: p.value });
          });
        }
        return ack({ int32Data0: axis });
      }
      case Command.LED_SET:
      case Command.LED_ENABLE:
      case Command.LED_DISABLE:
      case Command.ILLUMINATION_LEFT_ENABLE:
      case Command.ILLUMINATION_LEFT_DISABLE:
      case Command.ILLUMINATION_RIGHT_ENABLE:
      case Command.CAMERA_SNAPSHOT:
      case Command.CAMERA_LIVE_VIEW_START:
      case Command.CAMERA_LIVE_VIEW_STOP:
        return ack();
      default:
        // Everything else: no evidence of an answer, so none.
        return undefined;
    }
  };

  const listener: TcpListener = await listenTcp({ port: 0 }, (t) => {
    clients.add(t);
    const deframer = new Deframer({ maxPayloadBytes: 1 << 20, onError: () => t.destroy() });
    t.attach({
      data: (chunk) => {
        for (const p of deframer.push(chunk)) {
          received.push(p);
          const answer = handle(p);
          if (answer !== undefined) send(t, answer instanceof Uint8Array ? answer : encodePacket(answer));
        }
      },
      close: () => clients.delete(t),
    });
  });
  return {
    port: listener.port,
    received,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await listener.close();
    },
  };
}
