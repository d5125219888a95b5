// Helpers of the Python client tests: /usr/bin/python3 with the client importable, and a live `renorm-tune serve` started as a user would.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
export const CLIENT_DIR = fileURLToPath(new URL('../../../src/clients/python/', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

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
  const child: ChildProcess = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--db', join(dir, 'studies.db')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start within 20 s: ${out}`)), 20_000);
    const look = () => {
      const m = / at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', look);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  return {
    url,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a Python script with the client importable and $RENORM_TUNE_URL set; its stdout as JSON. */
export function runPython(code: string, url: string, timeoutMs = 120_000): unknown {
  const py = spawnSync(PYTHON, ['-c', code], {
    encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 26,
    env: { ...process.env, PYTHONPATH: CLIENT_DIR, RENORM_TUNE_URL: url, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(py.status, 0, `python failed (${py.signal ?? py.status}):\n${py.stderr}\n${py.stdout.slice(0, 2000)}`);
  return JSON.parse(py.stdout.trim().split('\n').at(-1)!);
}

