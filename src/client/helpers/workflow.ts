import { Command } from '../../../protocol/commands.js';
import { Flags } from '../../../protocol/flags.js';
import type { Packet } from '../../../protocol/packet.js';
import type { FlamingoClient } from '../client.js';
import { AbortError, ArgumentError, ConnectionClosedError, TimeoutError } from '../../errors.js';
import { checkTimeout } from '../fields.js';
import type { UploadProgressListener } from '../upload.js';

/** Progress of a running workflow, from UI_SET_GAUGE_SIZE / UI_SET_GAUGE_VALUE. */
export interface WorkflowProgress {
  /** Latest gauge value (images acquired). */
  value: number;
  /** Gauge maximum: the gauge value's int32Data1 (images expected), else UI_SET_GAUGE_SIZE; 0 until known. */
  max: number;
}

/** What a run reported. */
export interface WorkflowResult {
  /** Images acquired: summed stack-complete counts, else the last gauge value. */
  acquired: number;
  /** Images expected: summed stack-complete counts, else the last gauge maximum. */
  expected: number;
  /** Errors (stack-complete int32Data2; 0 without stack-complete). */
  errors: number;
  /** Acquisition time in µs: summed stack-complete values, else the time from the start to the end seen here. */
  durationUs: number;
  /** CAMERA_STACK_COMPLETE events seen (the instrument has not been seen to send any). */
  stacks: number;
  /** Where the counts came from. */
  countsFrom: 'stack-complete' | 'gauge' | 'none';
  /** True when {@link WorkflowHelper.stop} was called on this client while the run went on: it ended early. */
  stopped: boolean;
}

/** Options of {@link WorkflowHelper.start}. */
export interface WorkflowOptions {
  onProgress?: (progress: WorkflowProgress) => void;
  /**
   * Reject when the run has not started this soon (no gauge value, SYSTEM_STATE_GET still
   * idle): the instrument refuses a bad file silently. Default 30 000 ms, as the public client.
   */
  startTimeoutMs?: number;
  /**
   * SYSTEM_STATE_GET poll interval while waiting for the start and during the run. Default
   * 2000 ms: faster polling coincided with the instrument dropping connections. Tests may lower it.
   */
  pollIntervalMs?: number;
  /** Reject when the run has not ended this long after the start was sent (default: no limit). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told `{ sent, total }` as the workflow file (the trailing payload) is written, chunk by chunk. */
  onUploadProgress?: UploadProgressListener;
}

/** Default of {@link WorkflowOptions.startTimeoutMs}. */
export const DEFAULT_WORKFLOW_START_TIMEOUT_MS = 30_000;
/** Default of {@link WorkflowOptions.pollIntervalMs}. */
export const DEFAULT_WORKFLOW_POLL_MS = 2000;

const utf8 = new TextEncoder();

/** Workflow (acquisition) control, built on send, request and events. */
export class WorkflowHelper {
  /** Stops requested through this helper; a run that sees the count grow was stopped. */
  private stops = 0;
  /** Runs of this helper that have not ended, told when a stop is requested. */
  private readonly running = new Set<RunWatch>();

  constructor(private readonly client: FlamingoClient) {}

  /**
   * CAMERA_WORKFLOW_STOP (0x3005). The instrument answers it whether or not a workflow runs;
   * resolves with the reply's status. A `start()` that is running then resolves with
   * `stopped: true` when the instrument reports idle.
   */
  async stop(): Promise<number> {
    this.stops++;
    for (const run of this.running) run.stopRequested = true;
    const reply = await this.client.request(Command.CAMERA_WORKFLOW_STOP);
    return reply.status;
  }

  /**
   * Run a workflow as the instrument runs it (spec/protocol.md "Workflow run"): the file is
   * sent as the vendor GUI sends it (CAMERA_WORKFLOW_START with the callback flag,
   * addDataBytes = byte length, empty data field, the bytes unchanged: a Uint8Array goes out
   * as is, a string as UTF-8), and no reply is awaited (the instrument sends none). The run
   * counts as started on a gauge value or a SYSTEM_STATE_GET that no longer reads idle; a
   * SYSTEM_STATE_IDLE before that is stale and ignored. It ends on the first idle push, or
   * idle poll, after the start. While it runs, requests the instrument leaves unanswered
   * fail fast (RequestOptions.duringRun). Rejects with TimeoutError when the run never
   * starts (`startTimeoutMs`) or never ends (`timeoutMs`), and with ConnectionClosedError
   * (`maybeExecuted: true`) when the link was lost and the run ended unheard.
   */
  async start(text: string | Uint8Array, options: WorkflowOptions = {}): Promise<WorkflowResult> {
    const name = 'CAMERA_WORKFLOW_START';
    const bytes = typeof text === 'string' ? utf8.encode(text) : text;
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new ArgumentError('workflow text must be a non-empty string or Uint8Array', name);
    const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_WORKFLOW_START_TIMEOUT_MS;
    const pollMs = options.pollIntervalMs ?? DEFAULT_WORKFLOW_POLL_MS;
    checkTimeout('startTimeoutMs', startTimeoutMs, name);
    checkTimeout('pollIntervalMs', pollMs, name);
    checkTimeout('timeoutMs', options.timeoutMs, name);
    if (options.signal?.aborted) throw new AbortError(name, { cause: options.signal.reason });
    const client = this.client;
    // A confirmed start tells the mirror, so a gauge-less (Tile) run still gets its named events.
    const run = new RunWatch(options, () => void client.state.noteRunConfirmed());
    const stopsBefore = this.stops;
    this.running.add(run);
    const onEvent = (packet: Packet): void => run.event(packet);
    const onReconnected = (): void => {
      // Only a start already written can have run (and ended) unheard. One still waiting for
      // its turn (another caller's exclusive section, e.g. the refresh pass after an earlier
      // reconnect) goes out on the new link: an idle state now would only say it has not
      // been written yet, and failing the run then would leave that run untracked.
      if (!run.written) return;
      client.system.state().then(
        (state) => {
          if (state === 'idle')
            run.fail(
              new ConnectionClosedError(`${name}: the link was lost while the workflow ran and it ended before the reconnect; its counts are unknown`, true, {
                command: name,
              }),
            );
        },
        () => undefined,
      );
    };
    const timers: NodeJS.Timeout[] = [];
    let polling = true;
    // One poll timer at a time, replaced by the next: a long run must not collect a timer per poll.
    let pollTimer: NodeJS.Timeout | undefined;
    const poll = (): void => {
      pollTimer = setTimeout(() => {
        if (!polling) return;
        client.system
          .state()
          .then(
            (state) => run.polled(state),
            () => undefined,
          )
          .finally(() => {
            if (polling) poll();
          });
      }, pollMs);
    };
    // Aborted once the start is written: the run the caller gave up on is told to stop, so
    // that no acquisition runs that nobody tracks (our choice, spec/vocabulary.md). Before
    // that, send() drops the start unwritten.
    const stopAbandonedRun = (): void => void this.stop().catch(() => undefined);
    const onAbort = (): void => {
      if (run.written) stopAbandonedRun();
      run.fail(new AbortError(name, { cause: options.signal?.reason }));
    };
    client.on('event', onEvent);
    client.on('reconnected', onReconnected);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    client.runGate.begin();
    try {
      // Listeners are armed first: a short run's pushes can follow the upload at once.
      await client.send(
        Command.CAMERA_WORKFLOW_START,
        { cmdDataBits0: Flags.TRIGGER_CALL_BACK },
        {
          payload: bytes,
          ...(options.onUploadProgress !== undefined ? { onUploadProgress: options.onUploadProgress } : {}),
          // Aborted while the start waits for its turn: it is never written (no run nobody tracks).
          ...(options.signal !== undefined ? { signal: options.signal } : {}),
        },
      );
      run.written = true;
      run.sentAt = performance.now();
      // Aborted while the transport was still taking the start (it cannot be called back then).
      if (options.signal?.aborted === true) stopAbandonedRun();
      timers.push(
        setTimeout(() => {
          if (!run.started) run.fail(notStarted(startTimeoutMs));
        }, startTimeoutMs),
      );
      if (options.timeoutMs !== undefined) {
        const limit = options.timeoutMs;
        timers.push(setTimeout(() => run.fail(new TimeoutError(`${name} (the run did not end)`, limit)), limit));
      }
      poll();
      const result = await run.done;
      result.stopped = this.stops > stopsBefore;
      return result;
    } finally {
      this.running.delete(run);
      polling = false;
      clearTimeout(pollTimer);
      for (const t of timers) clearTimeout(t);
      client.runGate.end();
      client.off('event', onEvent);
      client.off('reconnected', onReconnected);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** The run never showed itself: a TimeoutError whose message says why that happens. */
function notStarted(ms: number): TimeoutError {
  const error = new TimeoutError('CAMERA_WORKFLOW_START', ms);
  error.message =
    `CAMERA_WORKFLOW_START: the workflow did not start within ${ms} ms (no gauge value, SYSTEM_STATE_GET still idle); ` +
    'the instrument refuses a workflow it cannot run without saying so (e.g. a tile outside the stage hard limits)';
  return error;
}

/** The state of one run: started yet, counts so far, the promise of its end. */
class RunWatch {
  started = false;
  /**
   * A stop was requested while the run went on: the next idle ends it even when the start
   * was not confirmed yet (a stop right after the start can beat the first busy poll).
   */
  stopRequested = false;
  /** CAMERA_WORKFLOW_START has been written whole: from then on the instrument may run it. */
  written = false;
  sentAt = 0;
  readonly done: Promise<WorkflowResult>;
  private readonly result: WorkflowResult = { acquired: 0, expected: 0, errors: 0, durationUs: 0, stacks: 0, countsFrom: 'none', stopped: false };
  private readonly progress: WorkflowProgress = { value: 0, max: 0 };
  private gaugeSeen = false;
  private resolve!: (result: WorkflowResult) => void;
  private reject!: (error: Error) => void;
  private settled = false;

  constructor(
    private readonly options: WorkflowOptions,
    private readonly onStarted: () => void,
  ) {
    this.done = new Promise<WorkflowResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.done.catch(() => undefined);
  }

  event(packet: Packet): void {
    switch (packet.code) {
      case Command.UI_SET_GAUGE_VALUE:
        this.markStarted();
        this.gaugeSeen = true;
        this.progress.value = packet.int32Data0;
        if (packet.int32Data1 > 0) this.progress.max = packet.int32Data1;
        this.options.onProgress?.({ ...this.progress });
        return;
      case Command.UI_SET_GAUGE_SIZE:
        this.progress.max = packet.int32Data0;
        this.options.onProgress?.({ ...this.progress });
        return;
      case Command.CAMERA_STACK_COMPLETE:
        if (!this.started) return;
        this.result.acquired = (this.result.stacks === 0 ? 0 : this.result.acquired) + packet.int32Data0;
        this.result.expected = (this.result.stacks === 0 ? 0 : this.result.expected) + packet.int32Data1;
        this.result.errors += packet.int32Data2;
        this.result.durationUs += packet.value;
        this.result.stacks++;
        return;
      case Command.SYSTEM_STATE_IDLE:
        // Before the start is confirmed an idle push is stale (seen right after a start).
        if (this.started || this.stopRequested) this.finish();
        return;
      default:
    }
  }

  polled(state: 'idle' | 'busy'): void {
    if (state === 'busy') this.markStarted();
    else if (this.started || this.stopRequested) this.finish();
  }

  private markStarted(): void {
    if (this.started || this.settled) return;
    this.started = true;
    this.onStarted();
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    const r = this.result;
    if (r.stacks > 0) r.countsFrom = 'stack-complete';
    else {
      r.durationUs = Math.round((performance.now() - this.sentAt) * 1000);
      if (this.gaugeSeen) {
        r.countsFrom = 'gauge';
        r.acquired = this.progress.value;
        r.expected = this.progress.max;
      }
    }
    this.resolve({ ...r });
  }
}
