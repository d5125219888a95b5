// Lease owner names: what a process of ours calls itself (`host:pid:role-nonce`) reads back into its parts (`show`
// and the dashboard say from them who trains a study), and a holder on this host whose process is gone is told from a
// live one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { processOwnerParts } from '../../src/shared/owners.js';
import { askOwner, deadLocalOwners, pidSpace, processOwner } from '../../src/study/owner.js';

test('a process owner name reads back as its host, pid and role; other names are not a process\'s', () => {
  const a = processOwner('worker');
  assert.deepEqual(processOwnerParts(a), { host: hostname(), pid: process.pid, role: 'worker', space: pidSpace() });
  assert.notEqual(processOwner('worker'), a, 'two in one process stay apart');
  assert.deepEqual(processOwnerParts('gpu-1.lab:41:run-0a1b2c'), { host: 'gpu-1.lab', pid: 41, role: 'run' });
  for (const other of [askOwner(), askOwner('ask-1'), 'by hand', 'gpu-1:x:worker-aaaaaa', 'gpu-1:41:worker', 'gpu-1:41:Worker-aaaaaa']) {
    assert.equal(processOwnerParts(other), undefined, other);
  }
});

test('dead local owners: a holder on this host and pid space whose process exited, never this process, another host, another pid space or an outside trainer', () => {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const here = pidSpace();
  assert.match(here, /^[0-9a-f]{8}$/);
  assert.equal(pidSpace(), here, 'one per process');
  assert.ok(processOwner('run').includes(`:run-${here}`), 'the nonce leads with the space');
  const gone = `${hostname()}:${child.stdout}:run-${here}aaaaaa`;
  const self = processOwner('run');
  const parent = `${hostname()}:${process.ppid}:worker-${here}bbbbbb`;
  const elsewhere = `not-${hostname()}:${child.stdout}:run-${here}cccccc`;
  // A container on this host's network (or a clone of this machine) has this host name and pids of its own.
  const otherSpace = `${hostname()}:${child.stdout}:worker-${here === '00000000' ? '11111111' : '00000000'}dddddd`;
  // Named before the nonce carried the space: which machine of that name it ran on cannot be told.
  const older = `${hostname()}:${child.stdout}:run-eeeeee`;
  assert.deepEqual(deadLocalOwners([gone, self, parent, elsewhere, otherSpace, older, askOwner('ask-1'), 'by hand']), [gone]);
});

test('a process in another PID namespace under the same host name is never judged dead by its pid', { skip: !unshareWorks() && 'needs unshare --pid (root on Linux)' }, () => {
  // The worker's owner name as it says it, from inside a new PID namespace (its pid there is 1 or 2: no such
  // process here, or another one), while it lives.
  const out = spawnSync('unshare', ['-p', '-f', '--mount-proc', process.execPath, '--input-type=module', '-e',
    `import { processOwner } from ${JSON.stringify(new URL('../../src/study/owner.js', import.meta.url).href)}; process.stdout.write(processOwner('worker'));`], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const inside = out.stdout;
  assert.match(inside, new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:worker-`));
  assert.notEqual(inside.split('-').at(-1)!.slice(0, 8), pidSpace());
  assert.deepEqual(deadLocalOwners([inside]), []);
});

function unshareWorks(): boolean {
  return spawnSync('unshare', ['-p', '-f', '--mount-proc', 'true']).status === 0;
}
