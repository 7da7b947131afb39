import { Command } from '../../../protocol/commands.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import type { ImageFrame } from '../../../protocol/image.js';
import type { FlamingoClient } from '../client.js';
import { ArgumentError, ProtocolError } from '../../errors.js';

/** What CAMERA_IMAGE_SIZE_GET reports. 0 × 0 is a valid answer: the camera is not streaming. */
export interface ImageSize {
  width: number;
  height: number;
  /** Physical pixel size of the sensor in µm (the reply's value, 6.5 on the instrument). */
  sensorPixelUm: number;
}

/** A symmetric crop of the sensor. */
export interface Roi {
  width: number;
  height: number;
}

/** Options of {@link CameraHelper.setRoi}. */
export interface RoiOptions {
  /** Sensor size in pixels (default 2048 × 2048, the instrument's PCO camera). */
  sensorWidth?: number;
  sensorHeight?: number;
}

/** Options of {@link CameraHelper.snapshot}. */
export interface SnapshotOptions {
  /** How long to wait for the frame on the live port (default 5000 ms, as the public client). */
  timeoutMs?: number;
  /** Live-image port (default: the client's, i.e. the command port + 1). */
  livePort?: number;
}

/**
 * 1-based edge of a symmetric crop: `(sensor − size) / 2 + 1` (spec/vocabulary.md "Camera").
 * ArgumentError when the size is not a whole number of pixels inside the sensor, or when the
 * crop cannot be centred on whole pixels.
 */
export function roiEdge(sensor: number, size: number, what: 'width' | 'height'): number {
  const command = what === 'width' ? 'CAMERA_ROI_LEFT_SET' : 'CAMERA_ROI_TOP_SET';
  if (!Number.isInteger(sensor) || sensor < 1) throw new ArgumentError(`sensor ${what} must be a positive integer, got ${String(sensor)}`, command);
  if (!Number.isInteger(size) || size < 1 || size > sensor) throw new ArgumentError(`${what} must be an integer 1..${sensor}, got ${String(size)}`, command);
  if ((sensor - size) % 2 !== 0)
    throw new ArgumentError(`${what} ${size} cannot be centred on a ${sensor}-pixel sensor (sensor − ${what} must be even)`, command);
  return (sensor - size) / 2 + 1;
}

/** Camera: image size, pixel size, exposure, crop, live view and snapshots. */
export class CameraHelper {
  constructor(private readonly client: FlamingoClient) {}

  /** CAMERA_IMAGE_SIZE_GET: width and height (0 × 0 when not streaming) and the sensor pixel size. */
  async imageSize(): Promise<ImageSize> {
    const reply = await this.client.request(Command.CAMERA_IMAGE_SIZE_GET, undefined, { expectOk: true });
    return { width: reply.int32Data0, height: reply.int32Data1, sensorPixelUm: reply.value };
  }

  /** CAMERA_PIXEL_FIELD_OF_VIEW_GET (0x3037): millimetres per pixel at the sample. */
  async pixelSizeMm(): Promise<number> {
    const reply = await this.client.request(Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET, undefined, { expectOk: true });
    if (!(reply.value > 0) || !Number.isFinite(reply.value)) {
      throw new ProtocolError(`pixel size is not a positive number: ${reply.value}`, reply, { command: 'CAMERA_PIXEL_FIELD_OF_VIEW_GET' });
    }
    return reply.value;
  }

  /** CAMERA_EXPOSURE_GET: exposure in microseconds. */
  async exposureUs(): Promise<number> {
    const reply = await this.client.request(Command.CAMERA_EXPOSURE_GET, undefined, { expectOk: true });
    return reply.int32Data0;
  }

  /**
   * Crop the camera symmetrically to `width` × `height`: left edge with 0x300F, top edge with
   * 0x3011, each the 1-based `(sensor − size)/2 + 1`. The instrument drops the camera's
   * recording state to change the crop, so live view is stopped first and, when it was
   * running (the stop reply's status 1), started again. All of it in one exclusive section;
   * resolves with the size read back afterwards. Arguments are checked before anything is sent.
   */
  async setRoi(roi: Roi, options: RoiOptions = {}): Promise<ImageSize> {
    if (typeof roi !== 'object' || roi === null) throw new ArgumentError('roi must be { width, height }', 'CAMERA_ROI_LEFT_SET');
    const left = roiEdge(options.sensorWidth ?? 2048, roi.width, 'width');
    const top = roiEdge(options.sensorHeight ?? 2048, roi.height, 'height');
    return this.client.exclusive(async (tx) => {
      // Raw request: status 0 means "live view was not running", which is not a failure here.
      const stopped = await tx.request(Command.CAMERA_LIVE_VIEW_STOP);
      await tx.request(Command.CAMERA_ROI_LEFT_SET, { int32Data0: left }, { expectOk: true });
      await tx.request(Command.CAMERA_STACK_COMPLETE, { int32Data0: top }, { expectOk: true });
      if (stopped.status === STATUS_OK) await tx.request(Command.CAMERA_LIVE_VIEW_START, { int32Data0: 0 }, { expectOk: true });
      const size = await tx.request(Command.CAMERA_IMAGE_SIZE_GET, undefined, { expectOk: true });
      return { width: size.int32Data0, height: size.int32Data1, sensorPixelUm: size.value };
    });
  }

  /** CAMERA_LIVE_VIEW_START, continuous (int32Data0 0). Frames come on the live port: see `client.live()`. */
  async startLive(): Promise<void> {
    await this.client.request(Command.CAMERA_LIVE_VIEW_START, { int32Data0: 0 }, { expectOk: true });
  }

  /**
   * CAMERA_LIVE_VIEW_STOP. Resolves with whether live view was running (the reply's status
   * 1 "terminated", 0 "not running"): stopping when nothing runs is not an error.
   */
  async stopLive(): Promise<boolean> {
    const reply = await this.client.request(Command.CAMERA_LIVE_VIEW_STOP);
    return reply.status === STATUS_OK;
  }

  /**
   * CAMERA_SNAPSHOT: the image comes on the live port, so the live stream is opened first,
   * then the snapshot is taken and the next frame carrying pixels is returned. The stream is
   * closed again before this resolves.
   */
  async snapshot(options: SnapshotOptions = {}): Promise<ImageFrame> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const live = await this.client.live(options.livePort === undefined ? {} : { port: options.livePort });
    try {
      const deadline = Date.now() + timeoutMs;
      await this.client.request(Command.CAMERA_SNAPSHOT, undefined, { expectOk: true });
      for (;;) {
        const frame = await live.nextFrame(Math.max(1, deadline - Date.now()));
        // A header with image size 0 carries options only (spec/protocol.md): not the image.
        if (frame.pixels.length > 0) return frame;
      }
    } finally {
      await live.close();
    }
  }
}
