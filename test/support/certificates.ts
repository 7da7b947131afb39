import { generate } from 'selfsigned';

/** PEM material for a test CA, a server certificate for 127.0.0.1 and a client certificate. */
export interface TestPki {
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  /** A second, unrelated CA (a certificate the gateway must not trust). */
  otherCa: string;
  other: { cert: string; key: string };
}

/**
 * Certificates made at test time with `selfsigned` (a maintained npm library, node-forge
 * underneath): nothing secret is stored in the repository and nothing expires in it.
 */
export async function makeTestPki(): Promise<TestPki> {
  const ec = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256' };
  const caExtensions = [
    { name: 'basicConstraints' as const, cA: true, critical: true },
    { name: 'keyUsage' as const, keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
  ];
  const ca = await generate([{ name: 'commonName', value: 'flamingo test CA' }], { ...ec, extensions: caExtensions });
  const otherCa = await generate([{ name: 'commonName', value: 'unrelated CA' }], { ...ec, extensions: caExtensions });
  const leaf = (cn: string, usage: { serverAuth?: boolean; clientAuth?: boolean }, issuer: { private: string; cert: string }) =>
    generate([{ name: 'commonName', value: cn }], {
      ...ec,
      ca: { key: issuer.private, cert: issuer.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', ...usage },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
  const server = await leaf('127.0.0.1', { serverAuth: true }, ca);
  const client = await leaf('flamingo app', { clientAuth: true }, ca);
  const other = await leaf('intruder', { clientAuth: true }, otherCa);
  return {
    ca: ca.cert,
    server: { cert: server.cert, key: server.private },
    client: { cert: client.cert, key: client.private },
    otherCa: otherCa.cert,
    other: { cert: other.cert, key: other.private },
  };
}
