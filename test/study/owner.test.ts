// Lease owner names: what a process of ours calls itself (`host:pid:role-nonce`) reads back into its parts (`show`
// and the dashboard say from them who trains a study), and a holder on this host whose process is gone is told from a
// live one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { processOwnerParts } from '../../src/shared/owners.js';
import { askOwner, deadLocalOwners, processOwner } from '../../src/study/owner.js';

test('a process owner name reads back as its host, pid and role; other names are not a process\'s', () => {
  const a = processOwner('worker');
  assert.deepEqual(processOwnerParts(a), { host: hostname(), pid: process.pid, role: 'worker' });
  assert.notEqual(processOwner('worker'), a, 'two in one process stay apart');
  assert.deepEqual(processOwnerParts('gpu-1.lab:41:run-0a1b2c'), { host: 'gpu-1.lab', pid: 41, role: 'run' });
  for (const other of [askOwner(), askOwner('ask-1'), 'by hand', 'gpu-1:x:worker-aaaaaa', 'gpu-1:41:worker', 'gpu-1:41:Worker-aaaaaa']) {
    assert.equal(processOwnerParts(other), undefined, other);
  }
});

test('dead local owners: a holder on this host whose process exited, never this process, another host or an outside trainer', () => {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const gone = `${hostname()}:${child.stdout}:run-aaaaaa`;
  const self = processOwner('run');
  const parent = `${hostname()}:${process.ppid}:worker-bbbbbb`;
  const elsewhere = `not-${hostname()}:${child.stdout}:run-cccccc`;
  assert.deepEqual(deadLocalOwners([gone, self, parent, elsewhere, askOwner('ask-1'), 'by hand']), [gone]);
});
