import type { ImageHeaderFields } from 'flamingo-protocol';

/**
 * The header of the options-only frame the simulated camera sends when live view starts
 * (mocks/live-image.ts, broadcastOptions): image size 0, the picture's size, the full 16-bit
 * scale, camera 0 (the default deviceIndex), no option bits and frame index 0.
 */
export function simulatedLiveStartOptions(width: number, height: number): Required<ImageHeaderFields> {
  return {
    imageSize: 0,
    width,
    height,
    scaleMin: 0,
    scaleMax: 0xffff,
    deviceIndex: 0,
    optionsSettings1: 0,
    optionsSettings2: 0,
    imageIndexStart: 0,
    imageIndexStop: 0,
  };
}
