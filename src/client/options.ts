import type { DuringRunPolicy } from './helpers/run-gate.js';
/** What a client can be told, and the one place its defaults are filled in. */
import type { Packet, SequenceField } from '../../protocol/packet.js';
import { DEFAULT_PORT } from '../../protocol/constants.js';
import type { CorrelationMode } from '../../protocol/domain.js';
import type { Transport } from '../../transports/transport.js';
import type { RequestFields } from '../correlation/pending.js';
import type { EventSelector, WaitOptions } from './event-waiters.js';
import { validateClientOptions } from './options-schema.js';
import type { CommandRef } from './fields.js';
import { reconnectPolicy } from './reconnect.js';
import type { ReconnectOptions, ReconnectPolicy } from './reconnect.js';
import type { UploadProgressListener } from './upload.js';
import { DEFAULT_UPLOAD_CHUNK_BYTES } from './upload.js';

/** Options of {@link FlamingoClient.connect}. */
export interface ClientOptions {
  /** Default '127.0.0.1'. Range: `non-empty text`. */
  host?: string;
  /** Command port, default 53717. Range: `integer 1 … 65535`. */
  port?: number;
  /**
   * `'auto'` (default) probes once with a SYSTEM_STATE_GET stamped with a sequence and
   * picks `'sequenced'` when the reply echoes it, else `'lease'` (also when no reply comes
   * within `probeTimeoutMs`). Published firmware echoes nothing: it gets `'lease'`.
   * Range: `'auto' | 'sequenced' | 'lease'`.
   */
  mode?: 'auto' | CorrelationMode;
  /** Reply timeout of each request, counted from when it is written (default 5000). Range: `1 … 2147483647 ms`. */
  requestTimeoutMs?: number;
  /** TCP connect timeout (default 2000). Range: `1 … 2147483647 ms`. */
  connectTimeoutMs?: number;
  /** Header field carrying the sequence in sequenced mode (default 'clientId'). Range: `'clientId' | 'hardwareId' | 'subsystemId'`. */
  sequenceField?: SequenceField;
  /** Sequenced mode: requests on the wire at once (default 32). Range: `integer 1 … 65535`. */
  maxInFlight?: number;
  /** Requests that may wait for their turn (default 10000); more fail with QueueFullError. Range: `integer 1 … 10000000`. */
  maxQueued?: number;
  /** How long a request may wait for its turn before QueueTimeoutError (default 30000). Range: `1 … 2147483647 ms`. */
  queueTimeoutMs?: number;
  /** Reply timeout of the auto-mode probe (default: requestTimeoutMs). Range: `1 … 2147483647 ms`. */
  probeTimeoutMs?: number;
  /** Reconnect after a lost link (off by default); `true` takes every default. Range: `true | false | object`. */
  reconnect?: ReconnectOptions | boolean;
  /**
   * A ready transport (e.g. one end of `createMemoryPair()`), or a factory called for each
   * (re)connection. When absent, the client connects over TCP to host:port.
   * Range: `a Transport or a function returning one`.
   */
  transport?: Transport | (() => Transport | Promise<Transport>);
  /** Largest trailing payload accepted from the server (default 64 MiB). Range: `integer 1 … 4294967295 bytes`. */
  maxPayloadBytes?: number;
  /** Payload bytes per transport write when uploading (default 64 KiB); replies and events keep flowing between chunks. Range: `integer 1 … 268435456 bytes`. */
  uploadChunkBytes?: number;
  /**
   * Keep `client.stats()` counters and latency histograms (default true). Recording is a few
   * increments per packet and allocates nothing per request; `false` skips even that.
   * Range: `true | false`.
   */
  stats?: boolean;
}

/** Options of {@link FlamingoClient.request}. */
export interface RequestOptions {
  /** Reply timeout, from the moment the request is written (default: requestTimeoutMs). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Trailing payload sent after the 128-byte header (its length goes into addDataBytes). */
  payload?: Uint8Array;
  /** Reject with ProtocolError when the reply's status is not 1 (default false: raw). */
  expectOk?: boolean;
  /**
   * Told `{ sent, total }` (payload bytes) after each chunk of `payload` is accepted by the
   * transport; the last call has sent === total. The request's reply timeout starts after it.
   */
  onUploadProgress?: UploadProgressListener;
  /**
   * Told once, synchronously, when the request has been handed to the transport whole (the
   * instrument may execute it from then on); never when it fails before that: what a
   * caller needs to write its next packet only behind this one (the gateway keeps each
   * app's order this way, through `FlamingoClient.forward`'s sink; spec/protocol.md, gateway).
   * What it throws is reported as the client's 'error', as a listener's is.
   */
  onWritten?: () => void;
  /**
   * The request's 128-byte header already encoded: exactly the bytes correlation would
   * encode for `code` and `fields` (sequence fields 0, TRIGGER_CALL_BACK set, addDataBytes
   * the payload's length). Correlation then only stamps its sequence into it instead of
   * encoding the header again. For a relay that re-sends decoded packets
   * (`FlamingoClient.forward` takes the header the same way, without a promise per request);
   * the bytes must not change until the request settles. One buffer per
   * request: correlation writes the sequence into it in place, so a buffer shared by two
   * requests would carry the later one's sequence for both.
   */
  header?: Uint8Array;
  /**
   * A command the instrument does not answer while a workflow runs (spec/commands.json
   * `duringRun: "no-reply"`), requested while `workflow.start` runs: `fail` at once with
   * WorkflowRunningError (default), or `wait` until the run ends, then send it.
   */
  duringRun?: DuringRunPolicy;
}

/** Options of {@link FlamingoClient.send}. */
export interface SendOptions {
  payload?: Uint8Array;
  /** Told `{ sent, total }` (payload bytes) after each chunk of `payload` is accepted by the transport. */
  onUploadProgress?: UploadProgressListener;
  /**
   * Aborted before the packet is written (e.g. while it waits for another caller's
   * exclusive section): it is never written, and send() rejects with AbortError. Once the
   * writing has begun the packet goes out whole.
   */
  signal?: AbortSignal;
}

/** Options of {@link FlamingoClient.events}. */
export interface EventStreamOptions {
  /** Events kept for a slow consumer before the oldest is dropped (default 1000). Range: `integer 1 … 10000000`. */
  bufferSize?: number;
}

/** Options of {@link FlamingoClient.live}. */
export interface LiveOptions {
  /** Live-image port (default: the command port + 1; required for a client on a custom transport). Range: `integer 1 … 65535`. */
  port?: number;
  /** Frames kept for a consumer that has not asked yet (default 4); the oldest is dropped when full. Range: `integer 1 … 10000`. */
  maxBuffered?: number;
  /** Give up connecting after this long (default: the client's connectTimeoutMs). Range: `1 … 2147483647 ms`. */
  connectTimeoutMs?: number;
}

/** What an `exclusive()` section may do; its calls pass the gate that holds everyone else back. */
export interface ExclusiveTx {
  request(code: CommandRef, fields?: RequestFields, options?: RequestOptions): Promise<Packet>;
  send(code: CommandRef, fields?: RequestFields, options?: SendOptions): Promise<void>;
  waitFor(selector: EventSelector, options?: WaitOptions): Promise<Packet>;
}

/** {@link ClientOptions} with every default filled in and every value checked, once. */
export interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly mode: 'auto' | CorrelationMode;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly sequenceField: SequenceField;
  readonly maxInFlight: number;
  readonly maxQueued: number;
  readonly queueTimeoutMs: number;
  readonly probeTimeoutMs: number;
  /** null: no reconnect. */
  readonly reconnect: ReconnectPolicy | null;
  readonly transport: ClientOptions['transport'];
  readonly maxPayloadBytes: number | undefined;
  readonly uploadChunkBytes: number;
  readonly stats: boolean;
}

/**
 * Check `options` and fill in the defaults. The only place a client default is written.
 * @throws ArgumentError naming the first bad option.
 */
export function resolveOptions(options: ClientOptions): ResolvedOptions {
  // Every option against its rule (src/client/options-schema.ts), before anything is opened:
  // a bad one must not leave a socket behind or fail later, at the first packet (spec/options.md).
  validateClientOptions(options);
  const maxInFlight = options.maxInFlight ?? 32;
  const field = options.sequenceField ?? 'clientId';
  const mode = options.mode ?? 'auto';
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? DEFAULT_PORT,
    mode,
    requestTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
    sequenceField: field,
    maxInFlight,
    maxQueued: options.maxQueued ?? 10_000,
    queueTimeoutMs: options.queueTimeoutMs ?? 30_000,
    probeTimeoutMs: options.probeTimeoutMs ?? requestTimeoutMs,
    reconnect: options.reconnect === undefined || options.reconnect === false ? null : reconnectPolicy(options.reconnect === true ? {} : options.reconnect),
    transport: options.transport,
    maxPayloadBytes: options.maxPayloadBytes,
    uploadChunkBytes: options.uploadChunkBytes ?? DEFAULT_UPLOAD_CHUNK_BYTES,
    stats: options.stats ?? true,
  };
}
