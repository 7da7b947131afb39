import pino from 'pino';
import type { Logger } from 'pino';
import type { FlamingoGateway } from '../apps/gateway/gateway.js';

/**
 * `flamingo gateway --log-json`: one JSON object per line (pino) on stdout, for log
 * collectors. Startup facts, every connection and its end (with the reason as a field),
 * upstream loss and return, and the gateway's other log lines as `msg`.
 */
export function jsonLogger(): Logger {
  // Synchronous: a line written just before a signal ends the process is not lost.
  return pino({ base: { name: 'flamingo-gateway' } }, pino.destination({ fd: 1, sync: true }));
}

/** Log the gateway's events as structured records. */
export function logGatewayJson(gateway: FlamingoGateway, log: Logger): void {
  gateway.on('opened', (session) =>
    log.info({ event: 'opened', session: session.id, peer: session.description, readOnly: session.readOnly }, `#${session.id} connected`),
  );
  gateway.on('closed', (session) =>
    log.info(
      { event: 'closed', session: session.id, peer: session.description, end: session.end.kind, reason: session.reason },
      `#${session.id} ${session.reason}`,
    ),
  );
  gateway.on('upstreamDown', (error) => log.warn({ event: 'upstreamDown', err: error }, 'instrument connection lost'));
  gateway.on('upstreamUp', () => log.info({ event: 'upstreamUp' }, 'instrument connection re-established'));
  gateway.on('log', (line) => {
    // Connections, ends and upstream changes are logged above with their fields.
    if (/^#\d+ |^instrument connection (lost|re-established)/.test(line)) return;
    log.info({ event: 'log' }, line);
  });
}
