import createDebug from 'debug';
import { encodePacket } from '../../protocol/codec.js';
import { commandName } from '../../protocol/commands.js';
import type { Packet } from '../../protocol/packet.js';
import { OpenRequests } from '../correlation/open-requests.js';
import { PendingRequest, type RequestFields, type RequestSink } from '../correlation/pending.js';
import { AbortError, ArgumentError, ConnectionClosedError } from '../errors.js';
import type { Correlator, Entry } from './correlator.js';
import type { EventHub } from './event-hub.js';
import { currentSection, runInSection, SectionRegistry } from './exclusive-sections.js';
import { checkFields, resolveCode, type CommandRef } from './fields.js';
import type { RunGate } from './helpers/run-gate.js';
import type { Link } from './link.js';
import { WriteCancelledError, type WriteOwner } from './upload.js';
import type { ExclusiveTx, RequestOptions, ResolvedOptions, SendOptions } from './options.js';
import { replyRule } from '../../protocol/command-profile.js';
import { WorkflowRunningError } from './helpers/run-gate.js';
import { badHeader, checkRequest, isHeaderOf, neverAnswered, newRequest, rejectAll } from './requests.js';

/** Routing log of what goes on the wire (`DEBUG=flamingo:wire`); guarded by `enabled`. */
const wireLog = createDebug('flamingo:wire');

/** What a {@link RequestPath} needs of the client that owns it. */
export interface RequestPathParts {
  readonly options: ResolvedOptions;
  readonly link: Link;
  readonly correlator: Correlator;
  readonly runGate: RunGate;
  readonly hub: EventHub;
  /** True once the client is finished. */
  finished(): boolean;
  /** Reports what a request's `onWritten` or a forward's sink throws (the client's 'error', docs/ARCHITECTURE.md rule 3). */
  readonly reportLater: (error: unknown) => void;
}

/**
 * The way in for requests, sends and exclusive sections, from the facade to correlation:
 * checks, the run gate, the set of open requests, and the re-entrant exclusive section
 * (spec/exclusive.md). The AsyncLocalStorage lookup that finds the section a call is made
 * from runs only while a section holds the gate: a client with no section pays nothing.
 */
export class RequestPath {
  /** Requests not yet settled (on the wire or waiting for their turn). */
  readonly open = new OpenRequests();
  /** Sections waiting or running; close() rejects them all. */
  private readonly sections = new SectionRegistry();
  /** Each running section's tx and its way into correlation, for {@link RequestPath.forward}. */
  private readonly sectionEntries = new WeakMap<ExclusiveTx, { entry: Entry; active: () => boolean }>();

  constructor(private readonly parts: RequestPathParts) {}

  /** FlamingoClient.request: inside a section the caller runs in, through that section. */
  request(code: CommandRef, fields: RequestFields | undefined, options: RequestOptions): Promise<Packet> {
    const holding = this.parts.correlator.gateClosed ? currentSection<ExclusiveTx>(this) : undefined;
    if (holding !== undefined) return holding.tx.request(code, fields, options);
    return this.make(code, fields, options, null);
  }

  /** FlamingoClient.send: inside a section the caller runs in, through that section. */
  send(code: CommandRef, fields: RequestFields | undefined, options: SendOptions): Promise<void> {
    const holding = this.parts.correlator.gateClosed ? currentSection<ExclusiveTx>(this) : undefined;
    if (holding !== undefined) return holding.tx.send(code, fields, options);
    return this.sendPacket(code, fields, options, false);
  }

  /** FlamingoClient.exclusive: re-entrant, rejected by {@link RequestPath.close}. */
  exclusive<T>(fn: (tx: ExclusiveTx) => Promise<T>): Promise<T> {
    if (this.parts.finished()) return Promise.reject(new ConnectionClosedError('the client is closed', false));
    // Called from inside one of this client's sections (a helper that opens its own, or
    // state.refresh()): the link is held already, so run in it instead of queuing behind it.
    const holding = this.parts.correlator.gateClosed ? currentSection<ExclusiveTx>(this) : undefined;
    if (holding !== undefined) {
      try {
        return Promise.resolve(fn(holding.tx));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    return this.sections.track((cancelled) =>
      this.parts.correlator.exclusive(async (entry) => {
        if (cancelled() || this.parts.finished()) throw new ConnectionClosedError('the client was closed before the exclusive section began', false);
        let active = true;
        const tx: ExclusiveTx = {
          request: (code, fields, options = {}) => (active ? this.make(code, fields, options, entry) : this.request(code, fields, options)),
          send: (code, fields, options = {}) => this.sendPacket(code, fields, options, active),
          waitFor: (selector, options) => this.parts.hub.waitFor(selector, options ?? {}),
        };
        this.sectionEntries.set(tx, { entry, active: () => active });
        try {
          return await runInSection({ owner: this, tx, active: () => active }, () => fn(tx));
        } finally {
          active = false;
        }
      }),
    );
  }

  /**
   * FlamingoClient.forward: re-send a decoded packet as a request, its outcome to `sink`.
   * What `request()` checks of caller input the decoder has made true already (every
   * field in its type's range, data of at most 72 bytes); what it checks of the command,
   * the header and the connection is checked here, and a refusal goes to the sink as the
   * same error `request()` would reject with. The sequence fields of `packet` are ignored
   * (the header carries 0 there; correlation stamps its own).
   */
  forward(packet: Packet, header: Uint8Array, sink: RequestSink, tx: ExclusiveTx | null): PendingRequest {
    const section = tx === null ? undefined : this.sectionEntries.get(tx);
    // A tx whose section has ended forwards as the client does outside any section (as `tx.request` does).
    const entry = section?.active() ? section.entry : null;
    const code = packet.code;
    const name = commandName(code);
    const request = new PendingRequest({
      code,
      name,
      fields: undefined,
      source: packet,
      sink,
      payload: packet.payload,
      timeoutMs: this.parts.options.requestTimeoutMs,
      expectOk: false,
      signal: undefined,
      insideExclusive: entry !== null,
      header,
      onCallbackError: this.parts.reportLater,
    });
    const refusal = this.forwardRefusal(packet, header, name);
    if (refusal !== null) {
      request.fail(refusal);
      return request;
    }
    this.open.add(request);
    this.parts.correlator.submit(request, entry);
    return request;
  }

  /** Why {@link RequestPath.forward} must not send `packet`, as the error `request()` would give; null when it may. */
  private forwardRefusal(packet: Packet, header: Uint8Array, name: string): Error | null {
    const code = packet.code;
    if (!Number.isFinite(packet.value)) return new ArgumentError(`value must be a finite number, got ${String(packet.value)}`, name);
    if (!isHeaderOf(header, code, packet.payload?.length ?? 0)) return badHeader(name);
    if (replyRule(code) === 'never') return neverAnswered(name);
    if (this.parts.finished()) return new ConnectionClosedError(`${name} was not sent: the client is closed`, false, { command: name });
    if (!this.parts.link.up && this.parts.options.reconnect?.whileDown !== 'queue') {
      return new ConnectionClosedError(`${name} was not sent: the connection is down`, false, { command: name });
    }
    if (this.parts.runGate.holds(code)) return new WorkflowRunningError(name);
    return null;
  }

  /** The link is lost: correlation settles what it carried; without `whileDown: 'queue'` every open request rejects. */
  linkLost(cause: Error): void {
    const keepQueued = this.parts.options.reconnect?.whileDown === 'queue';
    this.parts.correlator.linkLost(cause, keepQueued);
    if (!keepQueued) rejectAll(this.open, cause);
  }

  /** The client is finished: every open request and every section rejects. */
  close(error: Error | undefined): void {
    rejectAll(this.open, error);
    this.sections.rejectAll(() => new ConnectionClosedError('the client was closed', false, { cause: error }));
  }

  private make(command: CommandRef, fields: RequestFields | undefined, options: RequestOptions, entry: Entry): Promise<Packet> {
    const { correlator, link } = this.parts;
    let code: number;
    try {
      code = checkRequest(command, fields, options, correlator.mode === 'sequenced' ? correlator.sequenceField : null);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const name = commandName(code);
    if (this.parts.finished()) return Promise.reject(new ConnectionClosedError(`${name} was not sent: the client is closed`, false, { command: name }));
    if (!link.up && this.parts.options.reconnect?.whileDown !== 'queue') {
      return Promise.reject(new ConnectionClosedError(`${name} was not sent: the connection is down`, false, { command: name }));
    }
    if (options.signal?.aborted) return Promise.reject(new AbortError(name, { cause: options.signal.reason }));
    const held = this.parts.runGate.hold(code, options.duringRun ?? 'fail');
    if (held !== undefined) return held.then(() => this.make(command, fields, options, entry));
    const request = newRequest(code, name, fields, options, this.parts.options.requestTimeoutMs, entry !== null, this.parts.reportLater);
    this.open.add(request);
    correlator.submit(request, entry);
    return request.promise;
  }

  private async sendPacket(command: CommandRef, fields: RequestFields | undefined, options: SendOptions, inside: boolean): Promise<void> {
    const { correlator, link } = this.parts;
    const code = resolveCode(command);
    checkFields(code, fields);
    if (options.payload !== undefined && !(options.payload instanceof Uint8Array)) throw new ArgumentError('payload must be a Uint8Array', commandName(code));
    // Header only (announcing the payload's length): the writer sends the payload after it in chunks.
    const bytes = encodePacket(options.payload !== undefined ? { ...fields, code, addDataBytes: options.payload.length } : { ...fields, code });
    const sent = { ...fields, code };
    const signal = options.signal;
    while (!inside && correlator.gateClosed && !this.parts.finished() && signal?.aborted !== true) await correlator.gateOpened(signal);
    if (signal?.aborted === true) throw new AbortError(commandName(code), { cause: signal.reason });
    if (this.parts.finished() || !link.up) {
      const why = this.parts.finished() ? 'closed' : 'down';
      throw new ConnectionClosedError(`${commandName(code)} was not sent: the connection is ${why}`, false, { command: commandName(code) });
    }
    if (wireLog.enabled)
      wireLog('send %s (0x%s) without asking for a reply, %d payload bytes', commandName(code), code.toString(16), options.payload?.length ?? 0);
    correlator.noteSent(code);
    // The writer asks the owner before a packet that waited behind an upload goes out: an
    // aborted send is then dropped unwritten (a workflow start aborted there must not start a
    // run nobody tracks), and it says whether a byte left, for maybeExecuted.
    let started = false;
    // A function, not the field: the signal may abort while the write waits.
    const aborted = (): boolean => signal?.aborted === true;
    const owner: WriteOwner = {
      get settled() {
        return aborted();
      },
      markStarted() {
        started = true;
      },
    };
    try {
      await link.write(bytes, sent, options.payload, options.onUploadProgress, owner);
    } catch (error) {
      if (error instanceof WriteCancelledError && aborted()) throw new AbortError(commandName(code), { cause: signal?.reason });
      throw new ConnectionClosedError(`${commandName(code)} could not be written`, started, { command: commandName(code), cause: error });
    }
  }
}
