import { LIVE_PORT_OFFSET } from '../../protocol/constants.js';
import { ArgumentError } from '../errors.js';
import { openLiveStream, type LiveStream } from '../live/live-stream.js';
import { validateOptions } from '../options-schema.js';
import type { LiveOptions, ResolvedOptions } from './options.js';
import { LIVE_OPTIONS_SCHEMA } from './options-schema.js';

/**
 * FlamingoClient.live: the live-image stream of the client's host, on the command port + 1
 * unless `live.port` says otherwise (a client on a custom transport has no port to add to).
 */
export function openClientLive(client: ResolvedOptions, live: LiveOptions): Promise<LiveStream> {
  try {
    validateOptions(LIVE_OPTIONS_SCHEMA, live, 'live()');
  } catch (error) {
    return Promise.reject(error as Error);
  }
  const port = live.port ?? (client.transport === undefined ? client.port + LIVE_PORT_OFFSET : undefined);
  if (port === undefined) return Promise.reject(new ArgumentError('live(): a client on a custom transport needs an explicit live-image port'));
  return openLiveStream({
    host: client.host,
    port,
    ...(live.maxBuffered !== undefined ? { maxBuffered: live.maxBuffered } : {}),
    connectTimeoutMs: live.connectTimeoutMs ?? client.connectTimeoutMs,
  });
}
