/** The simulator's options, records and events (the shapes; SimulatedMicroscope is the behaviour). */
import type { FrameError } from '../protocol/errors.js';
import type { Packet, PacketHeaderFields, PacketInit } from '../protocol/packet.js';
import type { FaultSpec } from './fault-spec.js';

/** Options of {@link SimulatedMicroscope}. */
export interface SimulatorOptions {
  /**
   * Copy hardwareId, subsystemId and clientId from each request into its reply (the
   * project's sequenced extension, `flamingo sim --sequenced`). Default false: like the
   * instrument, 0 in all three.
   * Range: `true | false`.
   */
  echoSequence?: boolean;
  /**
   * How the settings answer (0x1007 to a 0x1009) carries its text: `counted` in
   * addDataBytes (default), or `bare` after a packet with addDataBytes 0. The instrument's
   * framing is not recorded; clients must accept both (spec/protocol.md "Settings").
   * Range: `'counted' | 'bare'`.
   */
  settingsFraming?: 'counted' | 'bare';
  /** Push a stale SYSTEM_STATE_IDLE right after a workflow starts (default true: observed on the instrument). Range: `true | false`. */
  staleIdlePush?: boolean;
  /** Push CAMERA_STACK_COMPLETE at the end of a workflow (default false: never observed). Range: `true | false`. */
  stackComplete?: boolean;
  /** Seed of every fault's random choices (default 1). Range: `integer 0 … 4294967295`. */
  seed?: number;
  /**
   * Faults for every connection: an object, the `--faults` text, or a function of the
   * connection id (1, 2, …) for per-connection faults. Default none.
   * Range: `a fault spec object, its text, or a function of the connection id`.
   */
  faults?: FaultSpec | string | ((connectionId: number) => FaultSpec | string | undefined);
  /** Speed-up of motion and workflows (1000: a 1 mm move at 1 mm/s takes 1 ms). Default 1. Range: `>0 … 1000000`. */
  timeScale?: number;
  /** Instrument time every workflow takes; default planes / frame rate of the workflow. Range: `1 … 2147483647 ms`. */
  workflowDurationMs?: number;
  /** The settings text (default: `DEFAULT_SETTINGS_TEXT` of `flamingo-protocol`); stage limits are read from it. Range: `text`. */
  settingsText?: string;
  /** Largest trailing payload a client may send (default 1 MiB); a larger claim closes the connection. Range: `integer 1 … 4294967295 bytes`. */
  maxPayloadBytes?: number;
  /**
   * Records kept (oldest dropped first, counted in `droppedRecords`); 0 records nothing and
   * computes nothing per packet for records. Default 100,000. Range: `integer 0 … 100000000`.
   */
  maxRecords?: number;
  /** Bytes a client may leave unread before it is dropped (default 8 MiB), as the firmware does. Range: `integer 1 … 4294967295 bytes`. */
  maxOutgoingBytes?: number;
  /** Camera image size (default 2048 × 2048) and pixel field of view in mm (default 0.000406). Range: `integer 1 … 65535`. */
  imageWidth?: number;
  /** Range: `integer 1 … 65535`. */
  imageHeight?: number;
  /** Range: `>0 … 1`. */
  pixelSizeMm?: number;
  /**
   * Size of the synthetic live-view frames for the full sensor (default 256 × 256: rendering
   * the 2048² camera size 20 times a second would be far too slow for a mock). A crop
   * (setRoi) scales the frames by the same factor, liveFrameWidth / imageWidth
   * (spec/vocabulary.md "Simulator"). Range: `integer 1 … 8192`.
   */
  liveFrameWidth?: number;
  /** Range: `integer 1 … 8192`. */
  liveFrameHeight?: number;
}

/** One packet the simulator received: its header fields, data as text, a payload hash. */
export interface SimRecord extends PacketHeaderFields {
  connectionId: number;
  /** 0-based position among this connection's packets. */
  index: number;
  /** 0-based position among every packet the simulator received. */
  sequence: number;
  name: string;
  /** The data field as text. */
  data: string;
  /** SHA-256 (hex) of the trailing payload, or null when there was none. */
  payloadHash: string | null;
}

/** A reply as the simulator built it. */
export type SimReply = PacketInit & { code: number; status: number };

/** One handled command, for logs and tests. */
export interface CommandInfo {
  connectionId: number;
  /** The packet's index among the connection's packets. */
  index: number;
  name: string;
  packet: Packet;
  /** The reply, or undefined when none was asked for (no TRIGGER_CALL_BACK) or the command is never acknowledged. */
  reply: SimReply | undefined;
  /** The reply was built but a fault dropped it (drop rate or disconnect). */
  dropped: boolean;
}

/** Events of {@link SimulatedMicroscope}. */
export interface SimulatorEvents {
  command: (info: CommandInfo) => void;
  connection: (info: { connectionId: number; description: string }) => void;
  disconnect: (info: { connectionId: number; error: Error | undefined }) => void;
  /** CAMERA_LIVE_VIEW_START (true) / STOP (false) changed the live-view state. */
  liveView: (active: boolean) => void;
  /** A client's stream broke the framing rules (over-limit payload claim); the connection is closed. */
  frameError: (info: { connectionId: number; error: FrameError }) => void;
  /** Garbage skipped in a client's stream before its next good packet. */
  resync: (info: { connectionId: number; skippedBytes: number }) => void;
  /** A listener threw; reported here instead of unwinding the simulator. */
  error: (error: unknown) => void;
}

/** What `listen` bound. */
export interface SimAddress {
  host: string;
  port: number;
  /** The live-image port (command port + 1 unless chosen otherwise). */
  livePort: number;
}
