/**
 * The synthetic picture the simulated camera shows: a bright cone-shaped spot on a dim
 * gradient, with seeded noise. The spot's centre follows the stage X/Y position and its
 * radius follows Z, so a viewer can see the stage move. Pure and deterministic.
 */

/** Stage travel the pattern maps onto the picture (limits of one real instrument, in mm). */
export const PATTERN_TRAVEL = {
  x: { min: 1.0, max: 15.0 },
  y: { min: 5.0, max: 25.0 },
  z: { min: 8.0, max: 25.0 },
} as const;

/** Pixel value of the spot's centre (before noise). */
export const PATTERN_PEAK = 40_000;
/** Pixel value of the background's left edge; it rises by {@link PATTERN_GRADIENT} to the right. */
export const PATTERN_BACKGROUND = 1_000;
/** How much brighter the background's right edge is than its left (spread evenly across the width). */
export const PATTERN_GRADIENT = 200;
/** Noise adds 0..PATTERN_NOISE-1 to every pixel. */
export const PATTERN_NOISE = 16;

/** Where a stage position puts the spot, in pixel coordinates. */
export interface SpotGeometry {
  /** Column of the centre (0 = left). */
  cx: number;
  /** Row of the centre (0 = top). */
  cy: number;
  /** Radius in pixels: the spot grows as Z rises. */
  radius: number;
}

/** Stage position in mm, as the pattern uses it. */
export interface PatternPosition {
  x: number;
  y: number;
  z: number;
}

function fraction(value: number, range: { min: number; max: number }): number {
  const f = (value - range.min) / (range.max - range.min);
  // A position outside the travel (or NaN from a broken callback) pins the spot to an edge.
  return Number.isFinite(f) ? Math.min(1, Math.max(0, f)) : 0;
}

/**
 * The spot for a stage position in a width × height picture: X travel maps linearly onto
 * the columns and Y onto the rows, inside a margin so the spot stays whole; Z maps onto a
 * radius from width/32 to width/8 (at least 1 pixel).
 */
export function spotGeometry(position: PatternPosition, width: number, height: number): SpotGeometry {
  const small = Math.min(width, height);
  const minRadius = Math.max(1, small / 32);
  const maxRadius = Math.max(minRadius, small / 8);
  const radius = minRadius + fraction(position.z, PATTERN_TRAVEL.z) * (maxRadius - minRadius);
  const marginX = Math.min(maxRadius, (width - 1) / 2);
  const marginY = Math.min(maxRadius, (height - 1) / 2);
  return {
    cx: marginX + fraction(position.x, PATTERN_TRAVEL.x) * (width - 1 - 2 * marginX),
    cy: marginY + fraction(position.y, PATTERN_TRAVEL.y) * (height - 1 - 2 * marginY),
    radius,
  };
}

/** A rendered picture: little-endian 16-bit pixels and the smallest and largest value in it. */
export interface RenderedPattern {
  pixels: Uint8Array;
  min: number;
  max: number;
}

/**
 * Integer hash (a murmur3-style finaliser) of seed, frame and pixel index, so the noise is
 * reproducible without a random generator's state and differs from frame to frame.
 */
function noise(seed: number, frame: number, index: number): number {
  let h = (seed ^ Math.imul(frame, 0x9e3779b1) ^ Math.imul(index, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) % PATTERN_NOISE;
}

/**
 * Render one frame. The spot is a cone: PATTERN_PEAK at its centre falling linearly to
 * zero at its radius, so the brightest pixel is the one nearest the centre (the noise is
 * far smaller than the cone's step between neighbouring pixels).
 */
export function renderPattern(options: {
  width: number;
  height: number;
  position: PatternPosition;
  frameNumber: number;
  seed: number;
  /** Reuse this buffer when it has the right size (saves an allocation per frame). */
  into?: Uint8Array;
}): RenderedPattern {
  const { width, height, frameNumber, seed } = options;
  const bytes = width * height * 2;
  const pixels = options.into !== undefined && options.into.length === bytes ? options.into : new Uint8Array(bytes);
  const { cx, cy, radius } = spotGeometry(options.position, width, height);
  const slope = PATTERN_PEAK / radius;
  const gradientStep = width > 1 ? PATTERN_GRADIENT / (width - 1) : 0;
  let min = 0xffff;
  let max = 0;
  let i = 0;
  for (let row = 0; row < height; row++) {
    const dy = row - cy;
    for (let col = 0; col < width; col++, i++) {
      const dx = col - cx;
      const distance = Math.sqrt(dx * dx + dy * dy);
      const spot = distance < radius ? PATTERN_PEAK - distance * slope : 0;
      const v = Math.min(0xffff, Math.round(PATTERN_BACKGROUND + col * gradientStep + spot) + noise(seed, frameNumber, i));
      if (v < min) min = v;
      if (v > max) max = v;
      pixels[2 * i] = v & 0xff;
      pixels[2 * i + 1] = v >>> 8;
    }
  }
  return { pixels, min: bytes === 0 ? 0 : min, max };
}
