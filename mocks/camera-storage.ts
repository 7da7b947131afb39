import { Command } from '../protocol/commands.js';
import { STATUS_FAILED, STATUS_OK } from '../protocol/constants.js';
import type { Packet, PacketInit } from '../protocol/packet.js';
import type { Outcome } from './instrument.js';

/** What the simulator reports about the crop, the LED selection and the drives. */
export interface SimVocabularySnapshot {
  /** 1-based left and top edges and the cropped size. */
  roi: { left: number; top: number; width: number; height: number };
  /** The LED colour last selected by LED_SET (0 red … 3 white), its DAC value, and whether it is lit. */
  ledPreview: { colour: number; dac: number; on: boolean };
  /** Mount points STORAGE_PATH_GET lists. */
  drives: string[];
}

/** Options of {@link CameraStorageModel}. */
export interface CameraStorageOptions {
  sensorWidth: number;
  sensorHeight: number;
  drives: readonly string[];
  /** Send a frame to every client except connection `except`. */
  broadcast: (init: PacketInit, except?: number) => void;
}

/** Codes whose accepted change the instrument tells every other client about (spec/vocabulary.md "Simulator"). */
const RELAYED = new Set<number>([
  Command.LED_SET,
  Command.LED_ENABLE,
  Command.LED_DISABLE,
  Command.ILLUMINATION_LEFT_ENABLE,
  Command.ILLUMINATION_LEFT_DISABLE,
  Command.ILLUMINATION_RIGHT_ENABLE,
  Command.ILLUMINATION_RIGHT_DISABLE,
  Command.CAMERA_LIVE_VIEW_START,
  Command.CAMERA_LIVE_VIEW_STOP,
]);

/** Default drives, in the form the instrument lists them. */
export const DEFAULT_SIM_DRIVES: readonly string[] = ['/media/deploy/ctlsm1', '/media/deploy/MSN_LS'];

/**
 * Camera crop, storage drives, the LED selection, and the relay of state changes to other
 * clients: the simulator's part of the app vocabulary, outside the core instrument model.
 */
export class CameraStorageModel {
  private left = 1;
  private top = 1;
  private colour = 0;
  private dac = 0;
  private ledOn = false;

  constructor(private readonly o: CameraStorageOptions) {}

  get width(): number {
    return this.o.sensorWidth - 2 * (this.left - 1);
  }

  get height(): number {
    return this.o.sensorHeight - 2 * (this.top - 1);
  }

  snapshot(): SimVocabularySnapshot {
    return {
      roi: { left: this.left, top: this.top, width: this.width, height: this.height },
      ledPreview: { colour: this.colour, dac: this.dac, on: this.ledOn },
      drives: [...this.o.drives],
    };
  }

  /** Handle a command this model owns, or undefined to let the instrument handle it. */
  before(p: Packet): Outcome | undefined {
    switch (p.code) {
      case Command.CAMERA_ROI_LEFT_SET:
        return this.edge(p.int32Data0, this.o.sensorWidth, (e) => (this.left = e));
      // As a request 0x3011 is the top edge; the instrument only pushes it (stack complete) unasked.
      case Command.CAMERA_STACK_COMPLETE:
        return this.edge(p.int32Data0, this.o.sensorHeight, (e) => (this.top = e));
      case Command.CAMERA_IMAGE_SIZE_GET:
        return { status: STATUS_OK, fields: { int32Data0: this.width, int32Data1: this.height, value: 6.5 } };
      case Command.STORAGE_PATH_GET:
        // Newline-separated mount points as the reply's trailing payload.
        return { status: STATUS_OK, fields: { payload: new TextEncoder().encode(this.o.drives.map((d) => `${d}\n`).join('')) } };
      default:
        return undefined;
    }
  }

  /** Note what an accepted command changed and relay it to the other clients after the reply. */
  after(p: Packet, from: number, outcome: Outcome): Outcome {
    if (outcome.status !== STATUS_OK || !RELAYED.has(p.code)) return outcome;
    if (p.code === Command.LED_SET) {
      this.colour = p.int32Data0;
      this.dac = p.int32Data1;
    } else if (p.code === Command.LED_ENABLE || p.code === Command.LED_DISABLE) {
      this.ledOn = p.code === Command.LED_ENABLE;
    }
    const relay: PacketInit = { code: p.code, status: STATUS_OK, int32Data0: p.int32Data0, int32Data1: p.int32Data1 };
    const first = outcome.after;
    return {
      ...outcome,
      after: () => {
        first?.();
        this.o.broadcast(relay, from);
      },
    };
  }

  /** A 1-based edge inside the sensor that leaves at least one pixel: accepted and applied; else failed. */
  private edge(edge: number, sensor: number, apply: (edge: number) => void): Outcome {
    if (!Number.isInteger(edge) || edge < 1 || 2 * (edge - 1) >= sensor) return { status: STATUS_FAILED };
    apply(edge);
    return { status: STATUS_OK };
  }
}
