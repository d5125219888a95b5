// HTTPS for `serve`: the API over TLS (and nothing over plain HTTP on its port), a Secure token cookie, the
// certificate files checked before anything listens (each mistake named by its flag), a renewed certificate served
// after SIGHUP without a restart, a warning for plain HTTP beyond loopback, and the Python client over HTTPS.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/errors.js';
import { validateStudyConfig } from '../../src/study/config.js';
import { createStudyService } from '../../src/study/service/defaults.js';
import { MemoryStorage } from '../../src/study/storage/index.js';
import { EXPIRY_WARN_DAYS, expiryWarning, loadTls, tlsFlags } from '../../src/server/tls.js';
import { httpsGet as get, makeCert, opensslMissing, type CertPair } from '../fixtures/certs.js';
import { serveProcess } from '../fixtures/serve_process.js';
import { CLIENT_DIR, PYTHON, pythonMissing } from '../clients/helpers.js';
import { start, studyConfig } from './helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'renorm-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const skip = opensslMissing;
const pairs: Record<string, CertPair> = {};
/** A certificate made once per name for this file. */
const pair = (name: string, days = 30) => (pairs[name] ??= makeCert(dir, name, days));
/** Files a server is given (`<name>.cert.pem`, `<name>.key.pem`), holding `from` now; `renew(to)` writes another pair over them. */
function livePair(name: string, from: CertPair): CertPair & { renew(to: CertPair): void } {
  const live = { cert: join(dir, `${name}.cert.pem`), key: join(dir, `${name}.key.pem`) };
  const renew = (to: CertPair) => {
    copyFileSync(to.cert, live.cert);
    copyFileSync(to.key, live.key);
  };
  renew(from);
  return { ...live, renew };
}

describe('serve over HTTPS', () => {
  it('answers the API over TLS with the given certificate, and nothing over plain HTTP on its port', { skip }, async () => {
    const a = pair('alpha');
    const api = createStudyService(new MemoryStorage());
    const srv = await start({ api, tls: a });
    try {
      assert.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const health = await get(srv.url, '/api/health', a.cert);
      assert.equal(health.status, 200);
      assert.equal(JSON.parse(health.body).ok, true);
      assert.equal(health.servedCn, 'alpha');
      assert.equal(srv.tls?.subject, 'CN=alpha');
      assert.equal(srv.tls?.validTo.getTime(), new Date(new X509Certificate(readFileSync(a.cert)).validTo).getTime());
      // An API call, and the client refusing a certificate it was not told to trust.
      await api.createStudy(validateStudyConfig(studyConfig('over-tls')));
      assert.equal(JSON.parse((await get(srv.url, '/api/studies', a.cert)).body).studies[0].name, 'over-tls');
      await assert.rejects(get(srv.url, '/api/health', pair('stranger').cert), /self[- ]signed|unable to verify|certificate/i);
      // Plain HTTP to the TLS port gets no HTTP answer.
      const plain = await new Promise<string>((resolve) => {
        const req = httpRequest(srv.url.replace('https:', 'http:') + '/api/health', { agent: false }, (res) => resolve(`HTTP ${res.statusCode}`));
        req.on('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`)).end();
      });
      assert.match(plain, /^error /, plain);
    } finally {
      await srv.close();
    }
  });

  it('serves the certificate as `serve` read it before opening the database, without reading the files again', { skip }, async () => {
    const live = livePair('read-once', pair('alpha'));
    const loaded = loadTls(live);
    // Renewed between the check and the listen: the server serves what was checked, and says so.
    live.renew(pair('beta'));
    const srv = await start({ api: createStudyService(new MemoryStorage()), tls: live, tlsLoaded: loaded });
    try {
      assert.equal((await get(srv.url, '/api/health', pair('alpha').cert)).servedCn, 'alpha');
      assert.equal(srv.tls?.subject, 'CN=alpha');
      assert.equal(srv.tls?.reload().subject, 'CN=beta', 'a reload reads the files');
    } finally {
      await srv.close();
    }
  });

  it('sets the dashboard token cookie Secure over HTTPS (and not over plain HTTP, where a browser would drop it)', { skip }, async () => {
    const a = pair('alpha');
    const token = 'tls-cookie-token-1';
    const tlsSrv = await start({ api: createStudyService(new MemoryStorage()), tls: a, token, dashboard: true });
    const plainSrv = await start({ api: createStudyService(new MemoryStorage()), token, dashboard: true });
    try {
      const login = await get(tlsSrv.url, `/?token=${token}`, a.cert);
      assert.equal(login.status, 303);
      assert.match(String(login.headers['set-cookie']), /HttpOnly.*Secure|Secure.*HttpOnly/);
      const plain = await fetch(`${plainSrv.url}/?token=${token}`, { redirect: 'manual' });
      assert.equal(plain.status, 303);
      assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /Secure/);
    } finally {
      await tlsSrv.close();
      await plainSrv.close();
    }
  });
});

describe('the TLS files', () => {
  const refusal = (files: { cert: string; key: string }, field: string, message: RegExp) =>
    assert.throws(() => loadTls(files), (e: unknown) => e instanceof ConfigError && e.field === field && message.test(e.message), `${field} ${message}`);

  it('are checked: unreadable, not a certificate, not a key, or a key of another certificate, each named by its flag with the fix', { skip }, () => {
    const a = pair('alpha');
    const b = pair('beta');
    refusal({ cert: join(dir, 'missing.pem'), key: a.key }, '--tls-cert', /cannot read .*missing\.pem \(ENOENT\).*give the PEM file of the server certificate/);
    refusal({ cert: a.cert, key: join(dir, 'missing.pem') }, '--tls-key', /cannot read .*missing\.pem \(ENOENT\)/);
    refusal({ cert: a.key, key: a.key }, '--tls-cert', /holds no PEM certificate.*give the certificate file/);
    refusal({ cert: a.cert, key: a.cert }, '--tls-key', /holds no usable private key.*unencrypted PEM key/);
    refusal({ cert: a.cert, key: b.key }, '--tls-key', /beta\.key\.pem is not the private key of the certificate in .*alpha\.cert\.pem \(CN=alpha\)/);
    const loaded = loadTls(a);
    assert.equal(loaded.subject, 'CN=alpha');
    assert.ok(loaded.validTo.getTime() > Date.now());
  });

  it('come as a pair: one flag without the other names the missing one', () => {
    assert.equal(tlsFlags({}), undefined);
    assert.deepEqual(tlsFlags({ tlsCert: 'c.pem', tlsKey: 'k.pem' }), { cert: 'c.pem', key: 'k.pem' });
    assert.throws(() => tlsFlags({ tlsCert: 'c.pem' }), (e: unknown) => e instanceof ConfigError && e.field === '--tls-key' && /needed with --tls-cert/.test(e.message));
    assert.throws(() => tlsFlags({ tlsKey: 'k.pem' }), (e: unknown) => e instanceof ConfigError && e.field === '--tls-cert' && /needed with --tls-key/.test(e.message));
  });

  it('warn when the certificate has expired or has less than the warning period left', () => {
    const now = new Date('2027-03-01T00:00:00Z');
    const at = (days: number) => ({ subject: 'CN=x', validTo: new Date(now.getTime() + days * 86_400_000) });
    assert.equal(expiryWarning(at(EXPIRY_WARN_DAYS + 1), now), undefined);
    assert.match(expiryWarning(at(3.5), now)!, /CN=x\) expires in 3\.5 days, on 2027-03-04T12:00:00\.000Z \(renew it, then send this process SIGHUP\)/);
    assert.match(expiryWarning(at(-2), now)!, /expired on 2027-02-27T00:00:00\.000Z: clients will refuse it/);
  });

  it('are read again on reload: later connections get the new certificate; a bad pair keeps the old one', { skip }, async () => {
    const [a, b] = [pair('alpha'), pair('beta')];
    const live = livePair('live', a);
    const { cert, key } = live;
    const srv = await start({ api: createStudyService(new MemoryStorage()), tls: { cert, key } });
    try {
      assert.equal((await get(srv.url, '/api/health', a.cert)).servedCn, 'alpha');
      live.renew(b);
      assert.equal(srv.tls!.reload().subject, 'CN=beta');
      assert.equal(srv.tls!.subject, 'CN=beta');
      assert.equal((await get(srv.url, '/api/health', b.cert)).servedCn, 'beta');
      // Half a renewal: the new certificate written, its key not yet.
      copyFileSync(a.cert, cert);
      assert.throws(() => srv.tls!.reload(), (e: unknown) => e instanceof ConfigError && e.field === '--tls-key');
      assert.equal(srv.tls!.subject, 'CN=beta');
      assert.equal((await get(srv.url, '/api/health', b.cert)).servedCn, 'beta', 'the old pair is still served');
    } finally {
      await srv.close();
    }
  });
});

/** `renorm-tune serve ...args` as a user starts it; resolves with its first line naming a URL, and all it printed so far. */
describe('renorm-tune serve --tls-cert/--tls-key', () => {
  it('serves HTTPS, reloads the renewed certificate on SIGHUP, and says so', { skip }, async () => {
    const [a, b] = [pair('alpha'), pair('beta')];
    const live = livePair('cli', a);
    const { cert, key } = live;
    const s = await serveProcess(['--db', join(dir, 'cli.db'), '--tls-cert', cert, '--tls-key', key]);
    try {
      const url = s.url;
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await get(url, '/api/health', a.cert)).servedCn, 'alpha');
      live.renew(b);
      s.child.kill('SIGHUP');
      for (let i = 0; i < 100 && !/reloaded the TLS certificate/.test(s.output()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(s.output(), /reloaded the TLS certificate \(CN=beta, valid until \d{4}-/);
      assert.equal((await get(url, '/api/health', b.cert)).servedCn, 'beta');
      writeFileSync(key, 'not a key\n');
      s.child.kill('SIGHUP');
      for (let i = 0; i < 100 && !/kept the TLS certificate/.test(s.output()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(s.output(), /kept the TLS certificate served so far: .*--tls-key|kept the TLS certificate served so far: .*cli\.key\.pem/);
      assert.equal((await get(url, '/api/health', b.cert)).servedCn, 'beta', 'still served after a failed reload');
      assert.equal(s.child.exitCode, null, 'a failed reload does not stop the server');
    } finally {
      await s.stop();
    }
  });

  it('warns at start of a certificate near its end', { skip }, async () => {
    const soon = pair('soon', 3);
    const s = await serveProcess(['--db', join(dir, 'soon.db'), '--tls-cert', soon.cert, '--tls-key', soon.key]);
    try {
      assert.match(s.output(), /warning: the TLS certificate \(CN=soon\) expires in [23]\.\d days/);
    } finally {
      await s.stop();
    }
  });

  it('refuses a bad pair before touching the database: exit non-zero, the flag and the fix named, no file written', { skip }, () => {
    const a = pair('alpha');
    const db = join(dir, 'refused.db');
    for (const [args, said] of [
      [['--tls-cert', a.cert], /--tls-key.*needed with --tls-cert/],
      [['--tls-cert', a.cert, '--tls-key', pair('beta').key], /--tls-key.*is not the private key of the certificate/],
      [['--tls-cert', join(dir, 'nope.pem'), '--tls-key', a.key], /--tls-cert.*cannot read .*nope\.pem \(ENOENT\)/],
    ] as const) {
      const r = spawnSync(process.execPath, [MAIN, 'serve', '--port', '0', '--db', db, ...args], { encoding: 'utf8', timeout: 30_000 });
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, said);
      assert.equal(existsSync(db), false, 'no database file for a refused start');
    }
  });

  it('warns when it serves beyond loopback over plain HTTP, or with a short token', async () => {
    const s = await serveProcess(['--db', join(dir, 'plain.db'), '--host', '0.0.0.0', '--token', 'plain-http-token-1234']);
    try {
      assert.match(s.output(), /warning: serving 0\.0\.0\.0 over plain HTTP: the bearer token and every study cross the network unencrypted \(give --tls-cert and --tls-key/);
      assert.doesNotMatch(s.output(), /characters: anyone who reaches/, 'a 21-character token is not warned of');
    } finally {
      await s.stop();
    }
    const short = await serveProcess(['--db', join(dir, 'short.db'), '--host', '0.0.0.0', '--token', 'short-tok1', '--read-token', 'viewer-token-abcdefgh-1']);
    try {
      assert.match(short.output(), /warning: the --token has 10 characters: anyone who reaches 0\.0\.0\.0 can try short ones until one works \(use at least 20 random characters, e\.g\. `openssl rand -hex 16`\)/);
      assert.doesNotMatch(short.output(), /the --read-token has/);
    } finally {
      await short.stop();
    }
  });
});

describe('the Python client over HTTPS', () => {
  it('works with a server whose certificate it is given (ca_file, $RENORM_TUNE_CA_FILE or $SSL_CERT_FILE), and refuses one it cannot verify, saying how', { skip: skip || pythonMissing }, async () => {
    const a = pair('alpha');
    const s = await serveProcess(['--db', join(dir, 'py.db'), '--tls-cert', a.cert, '--tls-key', a.key]);
    try {
      const url = s.url;
      const script = (clientArgs: string) => [
        'import json, sys, renorm_tune as rt',
        `c = rt.Client(${JSON.stringify(url)}${clientArgs})`,
        'try:',
        '    c.create_study("py-tls", metric="loss", direction="minimize", total_steps=100, budget_trials=3, exist_ok=True)',
        '    print(json.dumps({"studies": [s["name"] for s in c.studies()]}))',
        'except rt.RenormTuneError as e:',
        '    print(json.dumps({"code": e.code, "message": e.message}))',
      ].join('\n');
      const python = (clientArgs: string, env: NodeJS.ProcessEnv = {}) => {
        const py = spawnSync(PYTHON, ['-c', script(clientArgs)], {
          encoding: 'utf8', timeout: 60_000,
          env: { ...process.env, PYTHONPATH: CLIENT_DIR, PYTHONDONTWRITEBYTECODE: '1', RENORM_TUNE_CA_FILE: '', SSL_CERT_FILE: '', ...env },
        });
        assert.equal(py.status, 0, py.stderr);
        return JSON.parse(py.stdout.trim().split('\n').at(-1)!) as { studies?: string[]; code?: string; message?: string };
      };
      assert.deepEqual(python(`, ca_file=${JSON.stringify(a.cert)}`), { studies: ['py-tls'] });
      assert.deepEqual(python('', { RENORM_TUNE_CA_FILE: a.cert }), { studies: ['py-tls'] });
      assert.deepEqual(python('', { SSL_CERT_FILE: a.cert }), { studies: ['py-tls'] });
      // Trusting another certificate, or the system's authorities alone: refused at once, the fix named.
      for (const refused of [python(`, ca_file=${JSON.stringify(pair('stranger').cert)}`), python('')]) {
        assert.equal(refused.code, 'UNREACHABLE');
        assert.match(refused.message!, /the TLS certificate of renorm-tune at https:\/\/127\.0\.0\.1:\d+ was not verified \(.*certificate.*\); give Client\(ca_file=\.\.\.\) or RENORM_TUNE_CA_FILE/);
      }
      // A ca_file that is not one: a ValueError naming it, before any call.
      const bad = spawnSync(PYTHON, ['-c', `import renorm_tune as rt; rt.Client(${JSON.stringify(url)}, ca_file=${JSON.stringify(join(dir, 'none.pem'))})`],
        { encoding: 'utf8', env: { ...process.env, PYTHONPATH: CLIENT_DIR, PYTHONDONTWRITEBYTECODE: '1' } });
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /ValueError: ca_file '.*none\.pem' cannot be used \(.*No such file.*\): give the PEM file of the authority/);
    } finally {
      await s.stop();
    }
  });
});
