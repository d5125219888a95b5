// lightning_callback in real Lightning fits (.venv's Lightning on torch 2): the schedule on every batch renorm layer
// at each step, a report per validation and a pruned fit stopped, alone and over 2 CPU processes under Lightning's DDP
// (test/clients/fixtures/lightning_driver.py); and the README's Lightning objective as printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, checkReadmeObjective, liveServer, runVenvPython } from './helpers.js';
import { venvMissing } from '../python_venv.js';

const noLightning = venvMissing(['lightning', 'torch'], 'the Lightning callback would run');
const DRIVER = join(FIXTURES, 'lightning_driver.py');

interface Fit {
  runs: { number: number; steps: number[]; totalSteps: number; worstLimit: number; distinctLimits: number; bothLayers: boolean; valLoss: number }[];
  trials: { number: number; state: string; value: number; reports: number[] }[];
}

/** Two trials of 3 epochs of `perEpoch` steps each: limits, reports and values as the README promises. */
function checkFit(got: Fit, perEpoch: number, where: string): void {
  assert.equal(got.runs.length, 2, where);
  const total = 3 * perEpoch;
  for (const run of got.runs) {
    assert.equal(run.totalSteps, total, `${where} #${run.number}: the schedule stretched to the fit's own length`);
    assert.deepEqual(run.steps, Array.from({ length: total }, (_, i) => i), `${where} #${run.number}: one batch per step`);
    assert.ok(run.worstLimit < 1e-6, `${where} #${run.number}: a limit ${run.worstLimit} from schedule_at`);
    assert.ok(run.distinctLimits >= 3 && run.bothLayers, `${where} #${run.number}: both layers moved along the ramp`);
    const trial = got.trials.find((t) => t.number === run.number)!;
    assert.equal(trial.state, 'COMPLETE');
    assert.deepEqual(trial.reports, [perEpoch, 2 * perEpoch, total], `${where} #${run.number}: a report after each validation, at global_step`);
    assert.equal(trial.value, run.valLoss);
  }
}

test('lightning_callback in Trainer.fit under study.optimize: every batch the schedule at global_step on both BatchRenorm1d layers, a report per validation, the value told', { skip: noLightning }, async () => {
  const server = await liveServer();
  try {
    checkFit(runVenvPython([DRIVER, 'fit'], server.url).fit as Fit, 5, 'one process');
  } finally {
    await server.stop();
  }
});

test('lightning_callback stops the fit when the pruner asks, and reports nothing from a validate() after it; a monitor that was not logged is an error naming the logged ones', { skip: noLightning }, () => {
  const got = runVenvPython([DRIVER, 'prune']).prune as { epochs: number; pruned: boolean; reports: [number, number][]; missing: string };
  assert.equal(got.epochs, 2, 'of 6: stopped after the report that was answered prune');
  assert.equal(got.pruned, true);
  assert.deepEqual(got.reports.map((r) => r[0]), [5, 10]);
  assert.match(got.missing, /'val_acc' is not among the logged metrics \(val_loss\); pass monitor= one of them, logged with self\.log in validation_step/);
});

test("lightning_callback under Lightning's DDP over 2 CPU processes (launched as torchrun would): both ranks follow the schedule, rank 0 reports, both stop at its prune", { skip: noLightning }, async () => {
  const server = await liveServer();
  try {
    const out = runVenvPython([DRIVER, 'ddp'], server.url) as { ranks: (Fit & { rank: number; prune: { epochs: number; pruned: boolean; reports: [number, number][] } })[]; exitCodes: number[] };
    assert.deepEqual(out.exitCodes, [0, 0]);
    for (const rank of out.ranks) {
      // 80 samples over 2 ranks in batches of 16: 3 steps an epoch on each.
      checkFit(rank, 3, `rank ${rank.rank}`);
      assert.equal(rank.prune.epochs, 2, `rank ${rank.rank} stopped with the first rank`);
      assert.equal(rank.prune.pruned, true);
      assert.deepEqual(rank.prune.reports.map((r) => r[0]), rank.rank === 0 ? [3, 6] : [], 'only the first rank asks its study');
    }
  } finally {
    await server.stop();
  }
});

/** What the README's Lightning objective leaves to the reader: a LightningModule around a norm layer factory that logs val_acc, and the loaders. */
const LIGHTNING_PRELUDE = `
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
import lightning.pytorch as pl
torch.set_num_threads(1)
_g = torch.Generator().manual_seed(0)
_W = torch.randn(64, 4, generator=_g)
_X = torch.randn(1024, 1, 8, 8, generator=_g)
_Y = (_X.flatten(1) @ _W).argmax(1)
def _loader(a, b, shuffle=False):
    return DataLoader(TensorDataset(_X[a:b], _Y[a:b]), batch_size=32, shuffle=shuffle)
train_loader = _loader(0, 768, shuffle=True)
loaders = {"validation": _loader(768, 896), "test": _loader(896, 1024)}
class LitModel(pl.LightningModule):
    def __init__(self, norm):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), norm(8), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), norm(8),
                                 nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))
    def training_step(self, batch, i):
        x, y = batch
        return F.cross_entropy(self.net(x), y)
    def validation_step(self, batch, i):
        x, y = batch
        self.log("val_acc", (self.net(x).argmax(1) == y).float().mean())
    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
`;

test('the README Lightning objective, as printed: the baselines, the search and the evidence runs to a complete study, each reported per epoch and told', { skip: noLightning }, async () => {
  const server = await liveServer();
  const cwd = mkdtempSync(join(tmpdir(), 'renorm-lightning-'));  // Lightning writes its logs and checkpoints here
  try {
    checkReadmeObjective(LIGHTNING_PRELUDE, '**With PyTorch Lightning**', server.url, 24, {}, cwd);
  } finally {
    await server.stop();
    rmSync(cwd, { recursive: true, force: true });
  }
});
