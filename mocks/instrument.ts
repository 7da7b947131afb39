import { dataText } from '../protocol/codec.js';
import { Command, commandSpec } from '../protocol/commands.js';
import { STATUS_FAILED, STATUS_OK } from '../protocol/constants.js';
import type { Packet, PacketInit } from '../protocol/packet.js';
import { decodeTextPayload, findSection, parseNumberValue, parseTextFormat, readStageSettings, type TextDocument } from '../protocol/text-format.js';
import { parseWorkflow, type Workflow } from '../protocol/workflow-text.js';
import { formatLaserLevel, LASER_LEVEL_ERROR_TEXT, parseLaserLevel } from '../protocol/laser-level.js';
import { isAxis, simAxisLimits, StageModel, type Axis, type SimAxisSnapshot, type MotionStopped } from './stage.js';
import type { TimerSet } from './timers.js';
import { CameraStorageModel, DEFAULT_SIM_DRIVES, type SimVocabularySnapshot } from './camera-storage.js';
import { tileRunFor } from './tile-workflow.js';
import { WorkflowRun, type SimWorkflowProgress } from './workflow-run.js';

/** What handling one command produced. */
export interface Outcome {
  /** STATUS_OK or STATUS_FAILED. */
  status: number;
  /** Reply fields besides code, status and the echoed ones. */
  fields?: PacketInit;
  /** The command is never acknowledged, even with TRIGGER_CALL_BACK (LASER_ALL_DISABLE). */
  silent?: boolean;
  /** The reply waits for this (STAGE_WAIT_FOR_MOTION); later commands on the connection wait too. */
  waitFor?: Promise<void>;
  /** Runs once the reply is out (or dropped): events the command caused come after its reply. */
  after?: () => void;
}

/** Options of the instrument model. */
export interface InstrumentOptions {
  settingsText: string;
  timeScale: number;
  /** Instrument time of every workflow; default planes / frame rate. */
  workflowDurationMs: number | undefined;
  imageWidth: number;
  imageHeight: number;
  pixelSizeMm: number;
  /** Push a stale SYSTEM_STATE_IDLE right after a workflow starts (default true: observed). */
  staleIdlePush?: boolean;
  /** Push CAMERA_STACK_COMPLETE at the end of a workflow (default false: never observed). */
  stackComplete?: boolean;
}

/** A copy of the instrument's state for tests and tools. */
export interface SimulatorSnapshot extends SimVocabularySnapshot {
  stage: SimAxisSnapshot[];
  lasers: { index: number; level: number; previewOn: boolean }[];
  leds: { index: number; level: number; on: boolean }[];
  filterPosition: number;
  exposureUs: number;
  imageWidth: number;
  imageHeight: number;
  pixelSizeMm: number;
  /** 0 idle, 1 busy (a workflow runs), as SYSTEM_STATE_GET reports it. */
  systemState: 0 | 1;
  liveView: boolean;
  illumination: { left: boolean; right: boolean };
  workflow: SimWorkflowProgress | null;
  workflowsRun: number;
}

/** The state code the simulator answers while a workflow runs (not recorded on the instrument: our choice). */
const SIM_BUSY_STATE = 0xa004;
const LASERS = 4;
const LEDS = 4;
const FILTER_POSITIONS = 6;
const LED_MAX = 65535;
const ok = (fields?: PacketInit, after?: () => void): Outcome => ({ status: STATUS_OK, ...(fields && { fields }), ...(after && { after }) });
const failed = (fields?: PacketInit): Outcome => ({ status: STATUS_FAILED, ...(fields && { fields }) });

function settingsNumber(doc: TextDocument, sectionName: string, key: string, fallback: number): number {
  const s = findSection(doc.root, sectionName);
  if (s === undefined) return fallback;
  for (const item of s.items) {
    if (item.kind === 'entry' && item.key === key) return parseNumberValue(item.value) ?? fallback;
  }
  return fallback;
}

/**
 * The microscope's state and what each command does to it. No I/O: events go out through
 * `broadcast`, which the simulator sends to every connected client.
 */
export class Instrument {
  readonly stage: StageModel;
  private settingsText: string;
  private readonly lasers: { level: number; previewOn: boolean }[];
  private readonly leds: { level: number; on: boolean }[];
  private filterPosition = 1;
  private exposureUs: number;
  private readonly exposureRange: [number, number];
  private liveView = false;
  private illumination = { left: true, right: true };
  private workflow: Pick<WorkflowRun, 'snapshot' | 'start' | 'stop' | 'dispose'> | null = null;
  private readonly vocabulary: CameraStorageModel;
  private workflowsRun = 0;

  constructor(
    private readonly options: InstrumentOptions,
    private readonly timers: TimerSet,
    private readonly broadcast: (init: PacketInit, except?: number) => void,
    /** Live view switched on or off, or a snapshot frame is due on the live port. */
    private readonly onLiveView: (on: boolean | 'snapshot') => void,
  ) {
    this.vocabulary = new CameraStorageModel({
      sensorWidth: options.imageWidth,
      sensorHeight: options.imageHeight,
      drives: DEFAULT_SIM_DRIVES,
      broadcast: (init, except) => this.broadcast(init, except),
    });
    const doc = parseTextFormat(options.settingsText);
    this.settingsText = options.settingsText;
    const axes = simAxisLimits(readStageSettings(doc));
    this.stage = new StageModel(axes, timers, options.timeScale, (e) => this.motionStopped(e));
    const defaultLevel = settingsNumber(doc, 'Illumination settings', 'Laser default power (%)', 5);
    this.lasers = Array.from({ length: LASERS }, () => ({ level: defaultLevel, previewOn: false }));
    const ledLevel = settingsNumber(doc, 'LED settings', 'LED default DAC', 0);
    this.leds = Array.from({ length: LEDS }, () => ({ level: ledLevel, on: false }));
    this.exposureUs = settingsNumber(doc, 'Camera overlap settings', 'Default exposure time (us)', 10_000);
    this.exposureRange = [
      settingsNumber(doc, 'Camera overlap settings', 'Min exposure time (us)', 100),
      settingsNumber(doc, 'Camera overlap settings', 'Max exposure time (us)', 10_000_000),
    ];
  }

  /** The settings text COMMON_SCOPE_SETTINGS returns. */
  get settings(): string {
    return this.settingsText;
  }

  get busy(): boolean {
    return this.workflow !== null;
  }

  laserLevel(index: number): number | undefined {
    return this.lasers[index - 1]?.level;
  }

  /** The camera crop now, in pixels (what CAMERA_IMAGE_SIZE_GET answers). */
  cropSize(): { width: number; height: number } {
    return { width: this.vocabulary.width, height: this.vocabulary.height };
  }

  snapshot(): SimulatorSnapshot {
    return {
      stage: ([1, 2, 3, 4] as Axis[]).map((a) => this.stage.snapshot(a)),
      lasers: this.lasers.map((l, i) => ({ index: i + 1, ...l })),
      leds: this.leds.map((l, i) => ({ index: i, ...l })),
      filterPosition: this.filterPosition,
      exposureUs: this.exposureUs,
      imageWidth: this.vocabulary.width,
      imageHeight: this.vocabulary.height,
      pixelSizeMm: this.options.pixelSizeMm,
      systemState: this.busy ? 1 : 0,
      liveView: this.liveView,
      illumination: { ...this.illumination },
      workflow: this.workflow?.snapshot() ?? null,
      workflowsRun: this.workflowsRun,
      ...this.vocabulary.snapshot(),
    };
  }

  /** Stop every timer and release waiters (simulator shutdown). */
  dispose(): void {
    this.workflow?.dispose();
    this.workflow = null;
    this.stage.dispose();
  }

  /** Carry out one command of connection `from`. Unknown codes and event-only codes fail. */
  execute(p: Packet, from = 0): Outcome {
    return this.vocabulary.after(p, from, this.vocabulary.before(p) ?? this.executeCore(p));
  }

  private executeCore(p: Packet): Outcome {
    switch (p.code) {
      case Command.COMMON_SCOPE_SETTINGS_LOAD:
        // Answered by a 0x1007 packet (replyCode in spec/commands.json) carrying the text.
        return ok({ payload: new TextEncoder().encode(this.settingsText) });
      case Command.COMMON_SCOPE_SETTINGS:
        // Not a usable request on the instrument; with the flag the simulator says so (our choice).
        return failed();
      case Command.COMMON_SCOPE_SETTINGS_SAVE:
        return this.saveSettings(p);
      case Command.STORAGE_PATH_GET:
        return ok({ payload: new TextEncoder().encode('/media/flamingo/Data\n/media/flamingo/Scratch\n') });
      case Command.LASER_LEVEL_SET:
        return this.setLaserLevel(p);
      case Command.LASER_LEVEL_GET: {
        const level = this.laserLevel(p.int32Data0);
        return level === undefined ? failed({ data: LASER_LEVEL_ERROR_TEXT }) : ok({ data: formatLaserLevel(level) });
      }
      case Command.LASER_PREVIEW_ENABLE:
      case Command.LASER_PREVIEW_DISABLE: {
        const laser = this.lasers[p.int32Data0 - 1];
        if (laser === undefined) return failed();
        laser.previewOn = p.code === Command.LASER_PREVIEW_ENABLE;
        return ok();
      }
      case Command.LASER_ALL_DISABLE:
        for (const l of this.lasers) l.previewOn = false;
        return { status: STATUS_OK, silent: true };
      case Command.CAMERA_EXPOSURE_SET: {
        // The public client sends microseconds in int32Data0; accept `value` when that is 0.
        const us = p.int32Data0 !== 0 ? p.int32Data0 : Math.round(p.value);
        if (!(us >= this.exposureRange[0] && us <= this.exposureRange[1])) return failed();
        this.exposureUs = us;
        return ok();
      }
      case Command.CAMERA_EXPOSURE_GET:
        return ok({ int32Data0: this.exposureUs });
      case Command.CAMERA_WORKFLOW_START:
        return this.startWorkflow(p);
      case Command.CAMERA_WORKFLOW_STOP: {
        const run = this.workflow;
        return run === null ? ok() : ok(undefined, () => run.stop());
      }
      case Command.CAMERA_SNAPSHOT:
        // The image goes out on the live port one exposure after the reply (at least a
        // timer tick: a viewer that just connected is registered by then).
        if (this.busy) return failed();
        return ok(undefined, () => this.timers.timeout(() => this.onLiveView('snapshot'), Math.max(1, this.exposureUs / 1000 / this.options.timeScale)));
      case Command.CAMERA_LIVE_VIEW_START:
      case Command.CAMERA_LIVE_VIEW_STOP: {
        const on = p.code === Command.CAMERA_LIVE_VIEW_START;
        const changed = on !== this.liveView;
        this.liveView = on;
        return ok(undefined, changed ? () => this.onLiveView(on) : undefined);
      }
      case Command.CAMERA_IMAGE_SIZE_GET:
        return ok({ int32Data0: this.options.imageWidth, int32Data1: this.options.imageHeight });
      case Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET:
        return ok({ value: this.options.pixelSizeMm });
      case Command.LED_SET: {
        const led = this.leds[p.int32Data0];
        if (led === undefined || p.int32Data1 < 0 || p.int32Data1 > LED_MAX) return failed();
        led.level = p.int32Data1;
        return ok();
      }
      case Command.LED_ENABLE:
      case Command.LED_DISABLE: {
        const led = this.leds[p.int32Data0];
        if (led === undefined) return failed();
        led.on = p.code === Command.LED_ENABLE;
        return ok();
      }
      case Command.FILTER_POSITION_SET:
        if (!Number.isInteger(p.int32Data0) || p.int32Data0 < 1 || p.int32Data0 > FILTER_POSITIONS) return failed();
        this.filterPosition = p.int32Data0;
        return ok();
      case Command.FILTER_POSITION_GET:
        return ok({ int32Data0: this.filterPosition });
      case Command.STAGE_HOME:
        return this.moveAll(([1, 2, 3, 4] as Axis[]).map((axis) => [axis, this.stage.home(axis)]));
      case Command.STAGE_HALT: {
        const stopped = this.stage.halt();
        return ok(
          undefined,
          stopped.length === 0
            ? undefined
            : () => {
                for (const e of stopped) this.motionStopped(e);
              },
        );
      }
      case Command.STAGE_POSITION_SET:
      case Command.STAGE_POSITION_SET_SLIDER: {
        const axis = p.int32Data0;
        if (!isAxis(axis) || !this.stage.accepts(axis, p.value)) return failed();
        return this.moveAll([[axis, p.value]]);
      }
      case Command.STAGE_VELOCITY_SET: {
        const axis = p.int32Data0;
        return isAxis(axis) && this.stage.setVelocity(axis, p.value) ? ok() : failed();
      }
      case Command.STAGE_POSITION_GET: {
        const axis = p.int32Data0;
        if (!isAxis(axis)) return failed();
        // The instrument reads 0.000 while the axis moves (spec/commands.json whileMoving).
        return ok({ value: this.stage.snapshot(axis).moving ? 0 : this.stage.position(axis) });
      }
      case Command.STAGE_WAIT_FOR_MOTION:
        return { status: STATUS_OK, waitFor: this.stage.whenIdle() };
      case Command.ILLUMINATION_LEFT_ENABLE:
      case Command.ILLUMINATION_LEFT_DISABLE:
        this.illumination.left = p.code === Command.ILLUMINATION_LEFT_ENABLE;
        return ok();
      case Command.ILLUMINATION_RIGHT_ENABLE:
      case Command.ILLUMINATION_RIGHT_DISABLE:
        this.illumination.right = p.code === Command.ILLUMINATION_RIGHT_ENABLE;
        return ok();
      case Command.SYSTEM_STATE_GET:
        // Idle answers 0xA002 (observed); the busy code is not recorded: the simulator uses
        // SYSTEM_STATE_WORKFLOW_RUNNING's guessed code (our choice, spec/protocol.md).
        return ok({ int32Data0: this.busy ? SIM_BUSY_STATE : Command.SYSTEM_STATE_IDLE });
      default: {
        const spec = commandSpec(p.code);
        // Known requests without state of their own (settings load/save flags, stack
        // checks, save locations, live-view update, the ROI reading of 0x3011) are
        // accepted; event-only codes and unknown codes are not commands.
        return spec?.replies ? ok() : failed();
      }
    }
  }

  private setLaserLevel(p: Packet): Outcome {
    const laser = this.lasers[p.int32Data0 - 1];
    const text = dataText(p);
    const level = parseLaserLevel(text);
    if (laser === undefined || level === undefined || level < 0 || level > 100) return failed();
    laser.level = Math.round(level * 100) / 100;
    return ok();
  }

  private saveSettings(p: Packet): Outcome {
    if (p.payload === undefined) return failed();
    const text = decodeTextPayload(p.payload);
    try {
      const axes = simAxisLimits(readStageSettings(parseTextFormat(text)));
      this.stage.setLimits(axes);
      this.settingsText = text;
      return ok();
    } catch {
      return failed();
    }
  }

  /** Start moves; zero-length ones report motion-stopped right after the reply. */
  private moveAll(moves: [Axis, number][]): Outcome {
    const zero: MotionStopped[] = [];
    for (const [axis, target] of moves) {
      if (this.stage.moveTo(axis, target) === 'zero') zero.push({ axis, status: 1, position: target });
    }
    return ok(
      undefined,
      zero.length === 0
        ? undefined
        : () => {
            for (const e of zero) this.motionStopped(e);
          },
    );
  }

  private motionStopped(e: MotionStopped): void {
    this.broadcast({ code: Command.STAGE_MOTION_STOPPED, status: e.status, int32Data0: e.axis, value: e.position });
  }

  private startWorkflow(p: Packet): Outcome {
    if (this.busy || p.payload === undefined) return failed();
    let workflow: Workflow;
    try {
      workflow = parseWorkflow(decodeTextPayload(p.payload));
    } catch {
      return failed();
    }
    const frameRate = workflow.frameRate !== undefined && workflow.frameRate > 0 ? workflow.frameRate : 40;
    const instrumentMs = this.options.workflowDurationMs ?? (workflow.numberOfPlanes * 1000) / frameRate;
    // Lasers the workflow switches on run at its power; their levels are pushed at the end.
    const used = workflow.lasers.filter((l) => l.on && this.lasers[l.index - 1] !== undefined && l.power >= 0 && l.power <= 100);
    const finished = (): void => {
      this.workflow = null;
      this.workflowsRun++;
    };
    const fovMm = { x: this.options.pixelSizeMm * this.vocabulary.height, y: this.options.pixelSizeMm * this.vocabulary.width };
    let tiles: ReturnType<typeof tileRunFor>;
    try {
      tiles = tileRunFor(workflow, fovMm, {
        instrumentMs,
        timeScale: this.options.timeScale,
        lasers: used.map((l) => l.index),
        timers: this.timers,
        broadcast: this.broadcast,
        laserLevel: (i) => formatLaserLevel(this.laserLevel(i) ?? 0),
        finished,
      });
    } catch {
      return failed(); // no grid can be derived from this Tile workflow
    }
    for (const l of used) (this.lasers[l.index - 1] as { level: number }).level = Math.round(l.power * 100) / 100;
    const run =
      tiles ??
      new WorkflowRun({
        planes: workflow.numberOfPlanes,
        durationMs: instrumentMs / this.options.timeScale,
        timeScale: this.options.timeScale,
        lasers: used.map((l) => l.index),
        timers: this.timers,
        broadcast: this.broadcast,
        ...(this.options.staleIdlePush !== undefined ? { staleIdlePush: this.options.staleIdlePush } : {}),
        ...(this.options.stackComplete !== undefined ? { stackComplete: this.options.stackComplete } : {}),
        laserLevel: (i) => formatLaserLevel(this.laserLevel(i) ?? 0),
        finished,
      });
    this.workflow = run;
    return ok(undefined, () => run.start());
  }
}
