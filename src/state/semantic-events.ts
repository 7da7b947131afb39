import type { InstrumentState } from './instrument-state.js';
import { AXIS_NAMES, AXIS_NUMBERS, LASER_INDICES } from './snapshot.js';
import type { AxisName, InstrumentSnapshot, StackCompleteSnapshot } from './types.js';

/** A stage axis whose reported position or motion changed. */
export interface StageEvent {
  axis: AxisName;
  position: number | undefined;
  moving: boolean | undefined;
}

/** Workflow progress from the gauge events (absent for tile runs, as on the instrument). */
export interface AcquisitionProgressEvent {
  value: number | undefined;
  max: number | undefined;
}

/** How the run ended, as far as the instrument said. */
export interface AcquisitionFinishedEvent {
  stackComplete: StackCompleteSnapshot | undefined;
  imagesSaved: number | undefined;
}

/** Light sources and paths after a change. */
export interface IlluminationEvent {
  /** Lasers 1..4 in preview (undefined: never observed). */
  lasers: Readonly<Record<1 | 2 | 3 | 4, boolean | undefined>>;
  led: { colour: number | undefined; dac: number | undefined; on: boolean | undefined };
  left: boolean | undefined;
  right: boolean | undefined;
}

/** Named events an app listens for on the client (`client.on('stage', …)`), derived from the state mirror. */
export type SemanticEvents = {
  stage: [event: StageEvent];
  acquisitionStarted: [event: Record<string, never>];
  acquisitionProgress: [event: AcquisitionProgressEvent];
  acquisitionFinished: [event: AcquisitionFinishedEvent];
  liveStarted: [event: Record<string, never>];
  liveStopped: [event: Record<string, never>];
  illuminationChanged: [event: IlluminationEvent];
};

/** Name of a semantic event. */
export type SemanticEventName = keyof SemanticEvents;

function illumination(s: InstrumentSnapshot): IlluminationEvent {
  return {
    lasers: { 1: s.lasers[1].enabled, 2: s.lasers[2].enabled, 3: s.lasers[3].enabled, 4: s.lasers[4].enabled },
    led: { colour: s.led.index, dac: s.led.level, on: s.led.enabled },
    left: s.illumination.left,
    right: s.illumination.right,
  };
}

function illuminationDiffers(a: InstrumentSnapshot, b: InstrumentSnapshot): boolean {
  if (a.led !== b.led || a.illumination !== b.illumination) return true;
  return LASER_INDICES.some((i) => a.lasers[i].enabled !== b.lasers[i].enabled);
}

/**
 * Derive the semantic events from every mirror change: each fires once per change of what
 * it reports, whichever client caused it (the mirror also applies the instrument's
 * broadcasts). Returns a function that stops it.
 */
export function attachSemanticEvents(state: InstrumentState, emit: (name: SemanticEventName, value: unknown) => void): () => void {
  const onChange = (next: InstrumentSnapshot, prev: InstrumentSnapshot): void => {
    if (next.stage !== prev.stage) {
      for (const n of AXIS_NUMBERS) {
        const name = AXIS_NAMES[n];
        const a = next.stage[name];
        const b = prev.stage[name];
        if (a.position !== b.position || a.moving !== b.moving) emit('stage', { axis: name, position: a.position, moving: a.moving });
      }
    }
    const w = next.workflow;
    const v = prev.workflow;
    if (w !== v) {
      if (w.running === true && v.running !== true) emit('acquisitionStarted', {});
      if (w.running === true && (w.gaugeValue !== v.gaugeValue || w.gaugeSize !== v.gaugeSize) && w.gaugeValue !== undefined) {
        emit('acquisitionProgress', { value: w.gaugeValue, max: w.gaugeSize });
      }
      if (w.running === false && v.running === true) emit('acquisitionFinished', { stackComplete: w.stackComplete, imagesSaved: w.imagesSaved });
    }
    if (next.camera.live !== prev.camera.live) {
      if (next.camera.live === true) emit('liveStarted', {});
      else if (next.camera.live === false && prev.camera.live === true) emit('liveStopped', {});
    }
    if (illuminationDiffers(next, prev)) emit('illuminationChanged', illumination(next));
  };
  state.on('change', onChange);
  return () => state.off('change', onChange);
}
