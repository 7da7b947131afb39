/**
 * The model: what an app can know about the microscope from what it asked for. A value
 * is `undefined` when a request that may have changed it failed (a dropped ack, a lost
 * link): the instrument may or may not have executed it, and the next read tells.
 */
export interface Model {
  /** Index 1..4 (X, Y, Z, R); index 0 unused. */
  axes: AxisModel[];
  /** Index 1..4; percent as the instrument stores it (two decimals). */
  lasers: (number | undefined)[];
}

/** What the model knows of one stage axis: its resting position and any move still awaiting its stop event. */
interface AxisModel {
  /** Where the axis rests, exactly, or undefined when unknown. */
  position: number | undefined;
  /** A move was written whose STAGE_MOTION_STOPPED has not been consumed: stop events seen before it. */
  pendingFrom: number | null;
}

/** Travel limits from the default settings text (spec/protocol.md "Simulator choices", Stage). */
export const LIMITS: readonly (readonly [number, number])[] = [
  [0, 0],
  [1, 15],
  [5, 25],
  [8, 25],
  [-720, 720],
];

/** The simulator's documented start state: X 7.5, Y 15, Z 16.5, R 0; every laser at 5.00 %. */
export function initialModel(): Model {
  return {
    axes: [0, 7.5, 15, 16.5, 0].map((position) => ({ position, pendingFrom: null })),
    lasers: [undefined, 5, 5, 5, 5],
  };
}

export function axisOf(model: Model, axis: number): AxisModel {
  return model.axes[axis] as AxisModel;
}
