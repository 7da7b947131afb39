import { createHash } from 'node:crypto';
import { Deframer } from '../../protocol/deframer.js';
import type { Packet } from '../../protocol/packet.js';
import { DelegatingTransport } from '../../transports/delegating.js';
import type { Transport, TransportHandler } from '../../transports/transport.js';

/** One packet as a recording transport saw it written, with its payload's hash. */
export interface WrittenPacket {
  packet: Packet;
  /** SHA-256 (hex) of the trailing payload, or null (the same form as SimRecord.payloadHash). */
  payloadHash: string | null;
}

/**
 * A Transport that passes everything through to `inner` and keeps, through its own
 * Deframer, every packet written to it. Wrapped around the simulator's end it is the
 * record of what the simulator SENT on that connection (garbage skipped, fragments
 * joined), which the simulator itself does not keep; wrapped around the client's end it
 * is the record of what the client wrote. `onChange` fires after every write and after
 * every chunk delivered to the reader, so waiters can re-check their conditions.
 */
export class RecordingTransport extends DelegatingTransport {
  readonly written: WrittenPacket[] = [];
  /** Bytes this end was asked to write after its peer or itself had closed (not recorded). */
  refusedWrites = 0;
  private readonly deframer = new Deframer();

  constructor(
    inner: Transport,
    private readonly onChange: () => void,
  ) {
    super(inner);
  }

  override attach(handler: TransportHandler): void {
    this.inner.attach({
      data: (chunk) => {
        handler.data(chunk);
        this.onChange();
      },
      close: (error) => {
        handler.close(error);
        this.onChange();
      },
    });
  }

  override write(bytes: Uint8Array): Promise<void> {
    if (this.inner.isClosed) {
      this.refusedWrites++;
      return this.inner.write(bytes);
    }
    // Deframe before handing the bytes on: the transport copies them, the caller may reuse them.
    for (const packet of this.deframer.push(bytes)) {
      const payloadHash = packet.payload === undefined ? null : createHash('sha256').update(packet.payload).digest('hex');
      this.written.push({ packet, payloadHash });
    }
    const accepted = this.inner.write(bytes);
    this.onChange();
    return accepted;
  }
}
