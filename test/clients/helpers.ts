// Helpers of the Python client tests: /usr/bin/python3 with the client importable, and a live `renorm-tune serve` started as a user would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveProcess } from '../fixtures/serve_process.js';
import { VENV_PYTHON } from '../python_venv.js';

export const PYTHON = process.env.RENORM_TUNE_TEST_PYTHON ?? '/usr/bin/python3';
export const CLIENT_DIR = fileURLToPath(new URL('../../../src/clients/python/', import.meta.url));
/** The test fixtures' folder, importable too (studies.py). */
export const FIXTURES = fileURLToPath(new URL('../../../test/clients/fixtures/', import.meta.url));
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

export const pythonMissing = spawnSync(PYTHON, ['-c', 'import json, urllib.request'], { encoding: 'utf8' }).status !== 0
  ? `${PYTHON} is not installed (Debian: apt-get install python3); the Python client tests need it` : false;

/** Why the tests that run PyTorch skip (`need`: what they would check), or false when torch imports. */
export function torchMissing(need: string): string | false {
  return pythonMissing || (spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0
    ? `PyTorch is not installed for ${PYTHON} (Debian: apt-get install python3-torch); ${need}` : false);
}

/** `renorm-tune serve --port 0` on a fresh database, as a user starts it; resolves with its URL. */
export async function liveServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'renorm-py-'));
  const s = await serveProcess(['--db', join(dir, 'studies.db')]).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    url: s.url,
    stop: async () => {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The environment of a Python process of these tests: the client and the fixtures importable, $RENORM_TUNE_URL set. */
export function pythonEnv(url: string): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: [CLIENT_DIR, FIXTURES].join(delimiter), RENORM_TUNE_URL: url, PYTHONDONTWRITEBYTECODE: '1' };
}

/** Runs .venv's interpreter with `args` (a fixture driver and its arguments, or -c code) under pythonEnv(url) and `env`, in `cwd`; its last stdout line as JSON. */
export function runVenvPython(args: string[], url = 'http://127.0.0.1:9', env: NodeJS.ProcessEnv = {}, cwd?: string): Record<string, any> {
  const r = spawnSync(VENV_PYTHON, args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 26, env: { ...pythonEnv(url), ...env }, ...(cwd ? { cwd } : {}) });
  assert.equal(r.status, 0, `${args.slice(0, 2).join(' ').slice(0, 200)} failed (${r.signal ?? r.status}):\n${r.stderr.slice(-4000)}\n${r.stdout.slice(0, 2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, any>;
}

/** Runs a Python script under pythonEnv(url); its stdout as JSON. */
export function runPython(code: string, url: string, timeoutMs = 120_000): unknown {
  const py = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 26, env: pythonEnv(url) });
  assert.equal(py.status, 0, `python failed (${py.signal ?? py.status}):\n${py.stderr}\n${py.stdout.slice(0, 2000)}`);
  return JSON.parse(py.stdout.trim().split('\n').at(-1)!);
}

/** The first python block after the README's paragraph that starts with `heading`. */
export function readmeSnippet(heading: string): string {
  const text = readFileSync(README, 'utf8');
  const at = text.indexOf(heading);
  const start = text.indexOf('```python\n', at);
  const end = text.indexOf('\n```', start + 10);
  assert.ok(at >= 0 && start > at && end > start, `README.md must keep its "${heading}" snippet`);
  return text.slice(start + '```python\n'.length, end);
}

/** What the README's PyTorch loops leave to the reader: a model built with a norm layer factory, batches, and a validation accuracy. */
export const README_PRELUDE = `
import torch
from torch import nn
torch.set_num_threads(1)
_g = torch.Generator().manual_seed(0)
_W = torch.randn(64, 4, generator=_g)
_X = torch.randn(1024, 1, 8, 8, generator=_g)
_Y = (_X.flatten(1) @ _W).argmax(1)
_SPLITS = {"validation": (_X[768:896], _Y[768:896]), "test": (_X[896:], _Y[896:])}
def make_model(norm):
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), norm(8), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), norm(8), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
def batches():
    while True:
        idx = torch.randint(0, 768, (8,))
        yield _X[idx], _Y[idx]
def evaluate(model, split):
    x, y = _SPLITS[split]
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    model.train()
    return acc
`;

/** Runs a test driver under test/clients/fixtures that starts its ranks over gloo (gloo_ranks.py): each rank's JSON, in rank order, after checking that every rank exited 0. */
export function runGlooDriver(driver: string, ...args: string[]): Record<string, any>[] {
  return runGlooDriverUnder(PYTHON, driver, ...args);
}

/** runGlooDriver with another interpreter (.venv's, for torch 2). */
export function runGlooDriverUnder(python: string, driver: string, ...args: string[]): Record<string, any>[] {
  const file = join(FIXTURES, driver);
  const r = spawnSync(python, [file, CLIENT_DIR, ...args], { encoding: 'utf8', timeout: 180_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { ranks: Record<string, any>[]; exitCodes: number[] };
  assert.ok(out.exitCodes.length >= 2 && out.exitCodes.every((c) => c === 0), `exit codes ${out.exitCodes}; stderr: ${r.stderr.slice(-3000)}`);
  return out.ranks;
}

/**
 * Runs a README objective for study.optimize as printed (`prelude`, then the snippet after `heading`) under .venv
 * against the live server at `url`, and checks it took its study to the end: the two baselines, the search, the race
 * and paired final runs, every trial reported after each epoch of `perEpoch` steps and told an accuracy.
 */
export function checkReadmeObjective(prelude: string, heading: string, url: string, perEpoch: number, env: NodeJS.ProcessEnv = {}, cwd?: string): void {
  const got = runVenvPython(['-c', `${prelude}\n${readmeSnippet(heading)}
import json
view = study.view()
print(json.dumps({"state": view["state"], "verdict": study.best_schedule()["verdict"],
                  "trials": [[t["role"], t["state"], [p["step"] for p in t["intermediate"]], t["value"]] for t in view["trials"]]}))
`], url, env, cwd) as { state: string; verdict: string; trials: [string, string, number[], number | null][] };
  const roles = got.trials.map((t) => t[0]);
  assert.deepEqual(roles.slice(0, 4), ['baseline:batchnorm', 'baseline:paper', 'search', 'search'], 'budget_trials = 4, the two baselines first');
  assert.ok(roles.some((r) => r.startsWith('race:')) && roles.filter((r) => r.startsWith('final:')).length >= 4, 'the race and paired final runs');
  assert.equal(got.state, 'COMPLETE', 'optimize ran until the last evidence tell completed the study');
  assert.ok(got.verdict.length > 0);
  for (const [role, state, steps, value] of got.trials) {
    assert.ok(state === 'COMPLETE' || state === 'PRUNED', `${role} ${state}`);
    assert.ok(steps.length >= 1 && steps.every((s, i) => s === perEpoch * (i + 1)), `${role}: a report after each epoch of ${perEpoch} steps (${steps})`);
    assert.ok(typeof value === 'number' && value >= 0 && value <= 1, `${role}: told an accuracy (${value})`);
  }
}
