import { encode as fastPngEncode } from 'fast-png';
import { PNG } from 'pngjs';
import { framePixels16, type ImageFrame } from '../protocol/image.js';
import { autoContrast, encodeGrayPng, toGray8 } from '../src/live/png.js';

/**
 * Our grayscale PNG writer against maintained libraries (issue 13, point 10), on the same
 * frame in the same run, interleaved so that all share the machine's noise. Every encoder
 * writes the same PNG: grayscale, filter "none", zlib level 6 (node:zlib's default, which
 * ours uses). Ratios above 1 mean the library is slower than ours.
 */

const ROUNDS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

type Encoder = (width: number, height: number, samples: Uint8Array | Uint16Array) => Uint8Array;

const ENCODERS: Record<string, Encoder> = {
  hand: encodeGrayPng,
  fastpng: (width, height, samples) =>
    fastPngEncode({ width, height, data: samples, depth: samples instanceof Uint16Array ? 16 : 8, channels: 1 }, { zlib: { level: 6 } }),
  pngjs: (width, height, samples) => {
    const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: samples instanceof Uint16Array ? 16 : 8 });
    // pngjs reads 16-bit input through `new Uint16Array(data.buffer)`: the samples must own their whole buffer.
    const own = samples.byteOffset === 0 && samples.byteLength === samples.buffer.byteLength ? samples : samples.slice();
    png.data = Buffer.from(own.buffer, own.byteOffset, own.byteLength);
    return PNG.sync.write(png, {
      colorType: 0,
      inputColorType: 0,
      inputHasAlpha: false,
      bitDepth: samples instanceof Uint16Array ? 16 : 8,
      filterType: 0,
      deflateLevel: 6,
      deflateStrategy: 0,
    });
  },
};

/** Median encode time of each encoder for the frame as 8-bit (auto-contrast) and as 16-bit samples, and each library's ratio to ours. */
export function comparePngEncoders(frame: ImageFrame, size: number): Record<string, number> {
  const { width, height } = frame.header;
  const pixels = framePixels16(frame);
  const inputs = { 8: toGray8(pixels, autoContrast(pixels)), 16: pixels };
  const out: Record<string, number> = {};
  for (const [depth, samples] of Object.entries(inputs)) {
    const times: Record<string, number[]> = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, encode] of Object.entries(ENCODERS)) {
        const t0 = performance.now();
        const png = encode(width, height, samples);
        const ms = performance.now() - t0;
        times[name] ??= [];
        times[name].push(ms);
        out[`png_${name}_bytes_${depth}bit_${size}`] = png.length;
      }
    }
    const hand = median(times.hand ?? []);
    for (const [name, values] of Object.entries(times)) {
      out[`png_${name}_ms_${depth}bit_${size}`] = round(median(values));
      if (name !== 'hand') out[`png_${name}_vs_hand_${depth}bit_${size}`] = round(median(values) / hand);
    }
  }
  return out;
}
