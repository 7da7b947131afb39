import { Command } from '../../../protocol/commands.js';
import { STATUS_OK } from '../../../protocol/constants.js';
import { finite } from '../fields.js';
import { patchCamera, patchLed, withPart } from '../snapshot.js';
import type { Reducer } from './context.js';

/** LED_SET acknowledgement, status 1: the request's LED index and level (the reply repeats neither). */
const ledSetAck: Reducer = (s, packet, request) => {
  if (packet.status !== STATUS_OK) return s;
  // Unasked: the frame another client's LED_SET caused carries the colour and level itself.
  const from = request ?? packet;
  return patchLed(s, { index: from.int32Data0 ?? 0, level: from.int32Data1 ?? 0 });
};

const ledEnableAck: Reducer = (s, packet, request) => {
  if (packet.status !== STATUS_OK) return s;
  return request === undefined ? patchLed(s, { enabled: true }) : patchLed(s, { index: request.int32Data0 ?? 0, enabled: true });
};

/**
 * LED_DISABLE: an acknowledgement (status 1, the request names the LED) or an unsolicited
 * workflow push, which turns the LED off without saying which one: the index is kept.
 */
const ledDisabled: Reducer = (s, packet, request) => {
  if (request === undefined) return patchLed(s, { enabled: false });
  if (packet.status !== STATUS_OK) return s;
  return patchLed(s, { index: request.int32Data0 ?? 0, enabled: false });
};

const exposureReply: Reducer = (s, packet) => (packet.status === STATUS_OK ? patchCamera(s, { exposureUs: packet.int32Data0 }) : s);

const exposureSetAck: Reducer = (s, packet, request) =>
  request !== undefined && packet.status === STATUS_OK ? patchCamera(s, { exposureUs: request.int32Data0 ?? 0 }) : s;

const imageSizeReply: Reducer = (s, packet) => (packet.status === STATUS_OK ? patchCamera(s, { width: packet.int32Data0, height: packet.int32Data1 }) : s);

const pixelSizeReply: Reducer = (s, packet) => {
  const pixelSizeMm = finite(packet.value);
  return packet.status === STATUS_OK && pixelSizeMm !== undefined ? patchCamera(s, { pixelSizeMm }) : s;
};

const filterReply: Reducer = (s, packet) => (packet.status === STATUS_OK ? withPart(s, 'filterPosition', packet.int32Data0) : s);

const filterSetAck: Reducer = (s, packet, request) =>
  request !== undefined && packet.status === STATUS_OK ? withPart(s, 'filterPosition', request.int32Data0 ?? 0) : s;

/** LED, camera and filter-wheel reducers by command code. */
export const DEVICE_REDUCERS: ReadonlyArray<readonly [number, Reducer]> = [
  [Command.LED_SET, ledSetAck],
  [Command.LED_ENABLE, ledEnableAck],
  [Command.LED_DISABLE, ledDisabled],
  [Command.CAMERA_EXPOSURE_GET, exposureReply],
  [Command.CAMERA_EXPOSURE_SET, exposureSetAck],
  [Command.CAMERA_IMAGE_SIZE_GET, imageSizeReply],
  [Command.CAMERA_PIXEL_FIELD_OF_VIEW_GET, pixelSizeReply],
  [Command.FILTER_POSITION_GET, filterReply],
  [Command.FILTER_POSITION_SET, filterSetAck],
];
