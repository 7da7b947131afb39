import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Command, connectGateway, FlamingoClient } from '../../src/index.js';
import { ensureBuilt } from '../support/build.js';
import { makeTestPki } from '../support/certificates.js';
import { run, start, startSimCli } from '../support/cli-process.js';
import { tempFiles } from '../support/capture-helpers.js';
import { cleanedUpAfterEach } from '../support/cleanups.js';

beforeAll(ensureBuilt, 180_000);
const cleanups = cleanedUpAfterEach();

describe('flamingo gateway --tls-cert --tls-key --tls-ca', () => {
  it('serves TLS with client certificates required, read from PEM files', async () => {
    const pki = await makeTestPki();
    const { dir, write: file } = tempFiles(cleanups);
    const sim = await startSimCli(cleanups, ['--time-scale', '1000']);
    const gateway = start(
      [
        'gateway',
        '--upstream',
        `127.0.0.1:${sim.port}`,
        '--listen',
        '127.0.0.1:0',
        '--tls-cert',
        file('cert.pem', pki.server.cert),
        '--tls-key',
        file('key.pem', pki.server.key),
        '--tls-ca',
        file('ca.pem', pki.ca),
        '--quiet',
      ],
      cleanups,
    );
    const port = Number((await gateway.line(/^listening on [^:]+:(\d+)$/))[1]);
    await gateway.line(/^TLS, client certificates required$/);
    const client = await FlamingoClient.connect({ mode: 'lease', transport: () => connectGateway({ port, tls: { ca: pki.ca, ...pki.client } }) });
    cleanups.push(() => client.close());
    expect((await client.request(Command.SYSTEM_STATE_GET)).code).toBe(Command.SYSTEM_STATE_GET);
    const half = await run(['gateway', '--upstream', `127.0.0.1:${sim.port}`, '--tls-cert', path.join(dir, 'cert.pem')], cleanups);
    // A half-given pair is a bad command line: exit 64 with the usage line, as the README's table says.
    expect(half.code).toBe(64);
    expect(half.stderr).toBe('error: --tls-cert and --tls-key go together\nUsage: flamingo gateway [options]\n(run with --help for usage)\n');
  });
});
