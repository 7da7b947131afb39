import { createHash } from 'node:crypto';
import { dataText } from '../protocol/codec.js';
import { commandName } from '../protocol/commands.js';
import { headerFields, type Packet } from '../protocol/packet.js';
import { RingQueue } from './ring-queue.js';
import type { SimRecord } from './sim-types.js';

/**
 * The simulator's record of received packets: at most `max` records (oldest dropped first
 * and counted), all of them and per connection. Append and evict are O(1) (two rings), so
 * the cost per packet does not grow with the simulator's age. With `max` 0 nothing is
 * recorded and nothing is computed per packet (no text decode, no hash): `flamingo sim`
 * runs that way, since nobody can read its records.
 */
export class SimRecorder {
  /** Records dropped because `max` was reached. */
  dropped = 0;
  private readonly all = new RingQueue<SimRecord>();
  private readonly perConnection = new Map<number, RingQueue<SimRecord>>();
  private sequence = 0;

  constructor(
    private readonly max: number,
    /** Whether a connection is still open (a closed one's list is forgotten once empty). */
    private readonly isOpen: (connectionId: number) => boolean,
  ) {}

  /** Recording is on (max > 0). */
  get enabled(): boolean {
    return this.max > 0;
  }

  /** Start an (empty) list for a new connection. */
  open(connectionId: number): void {
    if (this.enabled) this.perConnection.set(connectionId, new RingQueue<SimRecord>());
  }

  /** Record one received packet: the `index`-th of its connection. */
  record(connectionId: number, index: number, p: Packet): void {
    if (!this.enabled) return;
    const r: SimRecord = {
      connectionId,
      index,
      sequence: this.sequence++,
      name: commandName(p.code),
      ...headerFields(p),
      data: dataText(p),
      // Hashed now rather than lazily: keeping the payload (up to maxPayloadBytes) alive in
      // every record until someone asks would unbound the record's memory.
      payloadHash: p.payload === undefined ? null : createHash('sha256').update(p.payload).digest('hex'),
    };
    this.all.push(r);
    this.perConnection.get(connectionId)?.push(r);
    if (this.all.length > this.max) this.evictOldest();
  }

  /** Every record, oldest first (a new array). */
  records(): SimRecord[] {
    return this.all.toArray();
  }

  /** One connection's records, oldest first (a new array). */
  recordsFor(connectionId: number): SimRecord[] {
    return this.perConnection.get(connectionId)?.toArray() ?? [];
  }

  private evictOldest(): void {
    const old = this.all.shift() as SimRecord;
    this.dropped++;
    const list = this.perConnection.get(old.connectionId);
    if (list === undefined) return;
    // Records are appended to both rings in the same order, so the globally oldest record
    // is also the oldest of its connection.
    if (list.peek() === old) list.shift();
    // Forget closed connections whose records are all gone, so their lists do not pile up.
    if (list.length === 0 && !this.isOpen(old.connectionId)) this.perConnection.delete(old.connectionId);
  }
}
