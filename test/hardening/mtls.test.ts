/** Issue 12 finding 10: the project's own clients can present a certificate to a coordinator that requires one. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type RunningCoordinator } from '../../coordinator/main.js';
import { SweepClient } from '../../cli/sweep-client.js';
import { clientTlsFromFlags } from '../../common/grpc-client-credentials.js';
import { tempDir } from '../coordinator/harness.js';

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)('mutual TLS from the CLI client (issue 12, finding 10)', () => {
  let dir: string;
  let c: RunningCoordinator;
  const f = (name: string) => path.join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

  beforeAll(async () => {
    dir = tempDir('npf-mtls-');
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=npf-test-ca');
    fs.writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    for (const who of ['server', 'client']) {
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? 'localhost' : 'npf-client'}`);
      ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.pem`, '-days', '1', ...(who === 'server' ? ['-extfile', 'san.ext'] : []));
    }
    c = await startCoordinator({
      dataDir: f('data'),
      grpcListen: '127.0.0.1:0',
      httpListen: null,
      tls: { certFile: f('server.pem'), keyFile: f('server.key'), caFile: f('ca.pem') },
      log: () => {},
    });
  }, 60_000);

  afterAll(async () => {
    await c?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a client with --tls-cert/--tls-key is served; one without a certificate is refused', async () => {
    const address = c.grpcAddress;
    const withCert = new SweepClient({ address, tls: clientTlsFromFlags({ 'tls-ca': f('ca.pem'), 'tls-cert': f('client.pem'), 'tls-key': f('client.key') }), timeoutMs: 10_000 });
    try {
      await expect(withCert.list()).resolves.toEqual([]);
    } finally {
      withCert.close();
    }
    const without = new SweepClient({ address, tls: clientTlsFromFlags({ 'tls-ca': f('ca.pem') }), timeoutMs: 5_000 });
    try {
      await expect(without.list()).rejects.toThrow();
    } finally {
      without.close();
    }
  });

  it('a certificate without its key is a usage error', () => {
    expect(() => new SweepClient({ address: c.grpcAddress, tls: { certFile: f('client.pem') } })).toThrow('give both --tls-cert and --tls-key (mutual TLS), or neither');
  });
});
