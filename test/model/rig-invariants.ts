import { Command, commandName } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { dataText } from '../../protocol/codec.js';
import { InvariantError } from './invariant-error.js';
import type { Cell } from './profiles.js';
import type { RecordingTransport } from './recording-transport.js';
import type { Rig } from './rig.js';

/** Codes the simulator only ever pushes (never a reply to anything the model sends). */
const EVENT_ONLY_CODES = new Set<number>([
  Command.STAGE_MOTION_STOPPED,
  Command.UI_SET_GAUGE_SIZE,
  Command.UI_SET_GAUGE_VALUE,
  Command.UI_IMAGES_SAVED_TO_STORAGE,
  Command.SYSTEM_STATE_IDLE,
  Command.LED_DISABLE,
  Command.CAMERA_STACK_COMPLETE,
]);
/** Fences the lease writes on its own (spec/protocol.md §8). */
const FENCE_CODES = new Set<number>([Command.SYSTEM_STATE_GET, Command.CAMERA_IMAGE_SIZE_GET, Command.CAMERA_EXPOSURE_GET]);
/** Commands that change the instrument: writing one twice (a replay) would be a real harm. */
const MUTATING_CODES = [Command.STAGE_POSITION_SET, Command.STAGE_HALT, Command.LASER_LEVEL_SET, Command.CAMERA_WORKFLOW_START] as const;

/** A field-by-field key of a packet (value compared as its exact float). */
function packetKey(p: Packet): string {
  return `${p.code}|${p.status}|${p.hardwareId}|${p.subsystemId}|${p.clientId}|${p.int32Data0}|${p.int32Data1}|${p.int32Data2}|${p.cmdDataBits0}|${Object.is(p.value, -0) ? '-0' : p.value}|${p.addDataBytes}|${dataText(p)}`;
}

function isEvent(mode: Cell['mode'], p: Packet): boolean {
  // Sequenced: a reply always echoes a nonzero sequence, an event carries 0. Lease: by code
  // (the model never asks for a code the simulator also pushes; spec/protocol.md §5.3).
  return mode === 'sequenced' ? p.clientId === 0 : EVENT_ONLY_CODES.has(p.code);
}

/** Every event the simulator sent to the rig's client, over all connections in order. */
export function sentEvents(rig: Rig): Packet[] {
  const out: Packet[] = [];
  for (const side of rig.simSides) for (const w of side.recorder.written) if (isEvent(rig.cell.mode, w.packet)) out.push(w.packet);
  return out;
}

/** Invariants that hold after every step. */
export function checkStepInvariants(rig: Rig): void {
  // Events: delivered once and in order, so far a prefix of what the simulator sent.
  const sent = sentEvents(rig);
  const got = rig.clientEvents;
  if (got.length > sent.length) throw new InvariantError(`client emitted ${got.length} events but the simulator sent ${sent.length}`);
  for (let i = 0; i < got.length; i++) {
    const a = packetKey(got[i] as Packet);
    const b = packetKey(sent[i] as Packet);
    if (a !== b) throw new InvariantError(`event #${i}: client emitted ${a}, simulator sent ${b}`);
  }
  // The events() iterator yields the same events as the listener, in the same order.
  const streamed = rig.streamEvents;
  if (streamed.length > got.length) throw new InvariantError(`events() yielded ${streamed.length} events, the listener saw ${got.length}`);
  for (let i = 0; i < streamed.length; i++) {
    if (streamed[i] !== got[i]) throw new InvariantError(`events() item #${i} is not the listener's event #${i}`);
  }
  // Requests: what the simulator recorded on each connection is what the client wrote there, in order.
  const seen = new Set<number>();
  for (let k = 0; k < rig.clientSides.length; k++) {
    const writes = (rig.clientSides[k] as RecordingTransport).written;
    const side = rig.simSides[k];
    if (side !== undefined) {
      const records = rig.sim.recordsFor(side.connectionId);
      if (records.length > writes.length)
        throw new InvariantError(`connection ${k + 1}: simulator recorded ${records.length} packets, client wrote ${writes.length}`);
      for (let i = 0; i < records.length; i++) {
        const r = records[i] as (typeof records)[number];
        const w = writes[i] as (typeof writes)[number];
        const p = w.packet;
        if (
          r.code !== p.code ||
          r.clientId !== p.clientId ||
          r.int32Data0 !== p.int32Data0 ||
          !Object.is(r.value, p.value) ||
          r.cmdDataBits0 !== p.cmdDataBits0 ||
          r.data !== dataText(p) ||
          r.payloadHash !== w.payloadHash
        ) {
          throw new InvariantError(`connection ${k + 1} packet ${i}: simulator recorded ${r.name} seq ${r.clientId}, client wrote ${packetKey(p)}`);
        }
      }
    }
    if (rig.cell.mode === 'sequenced') {
      for (const w of writes) {
        const s = w.packet.clientId;
        if (s === 0) continue;
        if (seen.has(s)) throw new InvariantError(`sequence ${s} written twice (replayed or duplicated)`);
        seen.add(s);
      }
    }
  }
  // Mutating commands are never written more often than the model asked (nothing replayed).
  for (const code of MUTATING_CODES) {
    let written = 0;
    for (const side of rig.clientSides) for (const w of side.written) if (w.packet.code === code) written++;
    const asked = rig.issued.get(code) ?? 0;
    if (written > asked) throw new InvariantError(`${commandName(code)}: written ${written} times, asked ${asked}`);
  }
  // Late replies only: an unmatched packet belongs to a request that timed out or was aborted.
  for (const p of rig.unmatched) {
    if (rig.cell.mode === 'sequenced' ? !rig.lateSequences.has(p.clientId) : !rig.lateCodes.has(p.code) && !FENCE_CODES.has(p.code)) {
      throw new InvariantError(`unmatched packet that no late request explains: ${packetKey(p)}`);
    }
  }
  const unexpected = rig.errors.filter((e) => !(rig.clientDroppedLink && e.message.startsWith('server stopped answering')));
  if (unexpected.length > 0) throw new InvariantError(`client emitted 'error': ${unexpected.map((e) => e.message).join('; ')}`);
  // A dropped reply surfaces as TimeoutError; no timeout without a dropped (or delayed) reply.
  if (rig.cell.mode === 'sequenced') {
    for (const s of rig.timedOutSequences) {
      if (!rig.droppedSequences.has(s)) throw new InvariantError(`request seq ${s} timed out but the simulator did not drop its reply`);
    }
  } else if (rig.timeouts > rig.droppedReplies) {
    throw new InvariantError(`${rig.timeouts} timeouts but only ${rig.droppedReplies} dropped replies`);
  }
}
