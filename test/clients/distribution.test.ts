// The Python client as it is handed out: it carries renorm-tune's version, names itself to servers by it, and as a
// pip package (src/clients/python/pyproject.toml) builds offline into a wheel of the one module that installs and imports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_DIR, PYTHON, pythonMissing } from './helpers.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function py(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 120_000, ...opts });
}

/** Why a wheel cannot be built here (no pip, or a setuptools older than the pyproject needs), or false. */
function buildMissing(): string | false {
  if (pythonMissing) return pythonMissing;
  // Read from the metadata, not imported: importing setuptools beside pip trips its distutils shim on Debian.
  const r = py(['-c', 'import importlib.metadata as m, importlib.util as u; v = m.version("setuptools"); assert u.find_spec("pip"), "no pip"; assert int(v.split(".")[0]) >= 61, "setuptools " + v']);
  return r.status === 0 ? false : `${PYTHON} has no pip, or a setuptools older than 61 (Debian: apt-get install python3-pip python3-setuptools): ${r.stderr.trim().split('\n').pop()}`;
}

test('the client module says the version of renorm-tune it comes with (package.json\'s)', { skip: pythonMissing }, () => {
  const r = py(['-c', 'import renorm_tune; print(renorm_tune.__version__)'], { env: { ...process.env, PYTHONPATH: CLIENT_DIR } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), VERSION);
});

/**
 * Python that serves GETs on a free port in a thread of the same process, each answered by `answer(request)` as
 * (status, JSON body, extra headers), and makes `client` a renorm_tune.Client of it.
 */
const FAKE_SERVER = `
import http.server, json, threading, renorm_tune
def serve(answer):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, body, headers = answer(self)
            raw = json.dumps(body).encode()
            self.send_response(status)
            for k, v in dict(headers, **{"Content-Type": "application/json", "Content-Length": str(len(raw))}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)
        def log_message(self, *a):
            pass
    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return renorm_tune.Client("http://127.0.0.1:%d" % srv.server_address[1])
`;

test('the client names itself and its version to the server (User-Agent), not as Python-urllib', { skip: pythonMissing }, () => {
  const code = `${FAKE_SERVER}
got = []
client = serve(lambda req: (got.append(req.headers.get("User-Agent")), (200, {"studies": []}, {}))[1])
assert client.studies() == []
print(got[0])
`;
  const r = py(['-c', code], { env: { ...process.env, PYTHONPATH: CLIENT_DIR } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trim(), new RegExp(`^renorm-tune-client/${VERSION.replace(/\./g, '\\.')} \\(Python 3\\.\\d+\\)$`));
});

test('a server of another release (major.minor) is named in one warning, again only when it changes; the same release or none is not', { skip: pythonMissing }, () => {
  // The server answers each request with the next version in the list (None: no header), the studies list as body.
  const code = `${FAKE_SERVER}
import warnings
versions = ["%s.9" % renorm_tune._release(renorm_tune.__version__), None, "0.999.0", "0.999.0", "0.999.1", "0.998.0", "0.998.0", "0.997.0"]
def answer(req):
    last = len(versions) == 1  # the last answer is a refusal, which names its version too
    v = versions.pop(0)
    headers = {"Renorm-Tune-Version": v} if v else {}
    return (404, {"error": {"code": "NOT_FOUND", "message": "no such study"}}, headers) if last else (200, {"studies": []}, headers)
client = serve(answer)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(7):
        client.studies()
        print(len(caught))
    try:
        client.studies()
    except renorm_tune.NotFound:
        print(len(caught))
print(caught[0].message)
print(caught[0].filename)
`;
  const r = py(['-c', code], { env: { ...process.env, PYTHONPATH: CLIENT_DIR } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  // Same release, no header, 0.999.0 (warned), 0.999.0 again, 0.999.1 (same release: no new word), 0.998.0 (warned),
  // then a 404 from 0.997.0 (warned).
  assert.deepEqual(lines.slice(0, 8), ['0', '0', '1', '1', '1', '2', '2', '3']);
  assert.match(lines[8]!, new RegExp(`^renorm-tune at http://127\\.0\\.0\\.1:\\d+ is version 0\\.999\\.0 and this client is ${VERSION.replace(/\./g, '\\.')}: .*use the client that comes with the server`));
  assert.equal(lines[9], '<string>', 'the warning points at the caller\'s line, not the client\'s');
});

test('pip builds the client offline into a wheel of the one module, which installs and imports from where it went', { skip: buildMissing() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-pip-'));
  try {
    // A copy: building in place would leave build/ and an egg-info beside the client.
    const src = join(dir, 'src');
    cpSync(CLIENT_DIR, src, { recursive: true, filter: (f) => !f.includes('__pycache__') });
    const wheels = join(dir, 'wheels');
    const built = py(['-m', 'pip', 'wheel', '--no-build-isolation', '--no-deps', '--no-index', '--disable-pip-version-check', '-w', wheels, src], { cwd: dir });
    assert.equal(built.status, 0, built.stdout + built.stderr);
    const [wheel, ...more] = readdirSync(wheels);
    assert.deepEqual(more, []);
    assert.equal(wheel, `renorm_tune_client-${VERSION}-py3-none-any.whl`);
    const listed = py(['-c', 'import sys, zipfile; print("\\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))', join(wheels, wheel!)]);
    assert.deepEqual(listed.stdout.trim().split('\n').filter((f) => !f.includes('.dist-info/')), ['renorm_tune.py'], 'the wheel holds the one module');

    const site = join(dir, 'site');
    const installed = py(['-m', 'pip', 'install', '--no-deps', '--no-index', '--disable-pip-version-check', '--target', site, join(wheels, wheel!)], { cwd: dir });
    assert.equal(installed.status, 0, installed.stdout + installed.stderr);
    // Run from the temporary folder with only the installed copy on the path: the repository's file cannot answer.
    const probe = py(['-c', 'import importlib.metadata as m, renorm_tune; print(renorm_tune.__file__); print(m.version("renorm-tune-client")); t = [{"step": 0, "rmax": 1, "rmin": 1, "dmax": 0}, {"step": 10, "rmax": 3, "rmin": 0.5, "dmax": 5}]; print(renorm_tune.schedule_at({"table": t, "totalSteps": 10}, 5)["dmax"])'],
      { cwd: dir, env: { ...process.env, PYTHONPATH: site } });
    assert.equal(probe.status, 0, probe.stderr);
    const [file, version, dmax] = probe.stdout.trim().split('\n');
    assert.equal(file, join(site, 'renorm_tune.py'));
    assert.equal(version, VERSION);
    assert.equal(dmax, '2.5', 'the installed module works: halfway along a 0 → 5 ramp');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
