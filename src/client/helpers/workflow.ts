import { Command } from '../../../protocol/commands.js';
import type { Packet } from '../../../protocol/packet.js';
import type { FlamingoClient } from '../client.js';
import { ArgumentError, ConnectionClosedError, TimeoutError } from '../../errors.js';
import type { UploadProgressListener } from '../upload.js';

/** Progress of a running workflow, from UI_SET_GAUGE_SIZE / UI_SET_GAUGE_VALUE. */
export interface WorkflowProgress {
  /** Latest gauge value. */
  value: number;
  /** Gauge maximum (0 until UI_SET_GAUGE_SIZE arrives). */
  max: number;
}

/** Counts from CAMERA_STACK_COMPLETE, summed over every stack of the workflow. */
export interface WorkflowResult {
  /** Images acquired (int32Data0). */
  acquired: number;
  /** Images expected (int32Data1). */
  expected: number;
  /** Errors (int32Data2). */
  errors: number;
  /** Acquisition time in microseconds (value). */
  durationUs: number;
  /** CAMERA_STACK_COMPLETE events seen. */
  stacks: number;
}

/** Options of {@link WorkflowHelper.start}. */
export interface WorkflowOptions {
  onProgress?: (progress: WorkflowProgress) => void;
  /** Reject when no sign of the workflow (busy state, gauge or stack event) comes this soon (default 5000 ms). */
  startTimeoutMs?: number;
  /** Reject when the workflow has not ended (SYSTEM_STATE_IDLE) this long after starting (default: no limit). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told `{ sent, total }` as the workflow text (the trailing payload) is written, chunk by chunk. */
  onUploadProgress?: UploadProgressListener;
}

const SIGNS_OF_LIFE = new Set<number>([
  Command.UI_SET_GAUGE_SIZE,
  Command.UI_SET_GAUGE_VALUE,
  Command.CAMERA_STACK_COMPLETE,
  Command.UI_IMAGES_SAVED_TO_STORAGE,
]);
const utf8 = new TextEncoder();

/** Workflow (acquisition) control, built on send, request and waitFor. */
export class WorkflowHelper {
  constructor(private readonly client: FlamingoClient) {}

  /**
   * Upload `text` (a `<Workflow Settings>` file) as CAMERA_WORKFLOW_START's trailing
   * payload WITHOUT the callback flag (the firmware treats the command as fire-and-forget),
   * follow the gauge events, and resolve on SYSTEM_STATE_IDLE with the stack counts.
   * Listeners are armed before the upload, so a workflow that ends at once is not missed.
   * Rejects with TimeoutError when nothing shows the workflow started within `startTimeoutMs`,
   * and with ConnectionClosedError (`maybeExecuted: true`) when the link was lost and, after
   * the reconnect, the instrument is no longer busy: the workflow ended unheard.
   */
  async start(text: string, options: WorkflowOptions = {}): Promise<WorkflowResult> {
    if (typeof text !== 'string' || text.trim() === '') throw new ArgumentError('workflow text must be a non-empty string', 'CAMERA_WORKFLOW_START');
    const startTimeoutMs = options.startTimeoutMs ?? 5000;
    const client = this.client;
    const stop = new AbortController();
    const signal = options.signal === undefined ? stop.signal : AbortSignal.any([stop.signal, options.signal]);
    const idle = client.waitFor(Command.SYSTEM_STATE_IDLE, {
      signal,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    idle.catch(() => undefined);

    const result: WorkflowResult = { acquired: 0, expected: 0, errors: 0, durationUs: 0, stacks: 0 };
    const progress: WorkflowProgress = { value: 0, max: 0 };
    let markStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const onEvent = (packet: Packet): void => {
      if (!SIGNS_OF_LIFE.has(packet.code)) return;
      markStarted();
      if (packet.code === Command.CAMERA_STACK_COMPLETE) {
        result.acquired += packet.int32Data0;
        result.expected += packet.int32Data1;
        result.errors += packet.int32Data2;
        result.durationUs += packet.value;
        result.stacks++;
      } else if (packet.code === Command.UI_SET_GAUGE_SIZE || packet.code === Command.UI_SET_GAUGE_VALUE) {
        if (packet.code === Command.UI_SET_GAUGE_SIZE) progress.max = packet.int32Data0;
        else progress.value = packet.int32Data0;
        options.onProgress?.({ ...progress });
      }
    };
    client.on('event', onEvent);
    // Events of a lost link are gone for good: after a reconnect, an instrument that is no
    // longer busy finished the workflow while nobody could hear its SYSTEM_STATE_IDLE, so
    // waiting on would never end (matrix counterexample reconnect/memory/sequenced).
    let endedUnheard: (error: Error) => void = () => undefined;
    const lostEnd = new Promise<never>((_, reject) => (endedUnheard = reject));
    lostEnd.catch(() => undefined);
    const onReconnected = (): void => {
      client.system.state().then(
        (state) => {
          if (state === 'busy') return;
          endedUnheard(
            new ConnectionClosedError(
              'CAMERA_WORKFLOW_START: the link was lost while the workflow ran and it ended before the reconnect; its stack counts are unknown',
              true,
              { command: 'CAMERA_WORKFLOW_START' },
            ),
          );
        },
        () => undefined,
      );
    };
    client.on('reconnected', onReconnected);
    let startTimer: NodeJS.Timeout | undefined;
    try {
      await client.send(Command.CAMERA_WORKFLOW_START, undefined, {
        payload: utf8.encode(text),
        ...(options.onUploadProgress !== undefined ? { onUploadProgress: options.onUploadProgress } : {}),
      });
      // A busy state is also a sign; a failed query just leaves the events to decide.
      client.system.state().then(
        (state) => {
          if (state === 'busy') markStarted();
        },
        () => undefined,
      );
      const startTimeout = new Promise<never>((_, reject) => {
        startTimer = setTimeout(
          () => reject(new TimeoutError('CAMERA_WORKFLOW_START (no sign of the workflow)', startTimeoutMs)),
          startTimeoutMs,
        );
      });
      await Promise.race([started, idle, startTimeout, lostEnd]);
      clearTimeout(startTimer);
      await Promise.race([idle, lostEnd]);
      return result;
    } finally {
      clearTimeout(startTimer);
      client.off('event', onEvent);
      client.off('reconnected', onReconnected);
      stop.abort();
    }
  }
}
