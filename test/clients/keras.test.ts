// The Python client's Keras 3 side, with .venv's Keras under the three backends it runs on (TensorFlow, PyTorch, JAX):
// BatchRenormalization against the client's own PyTorch layer in float64, its limits as data to a compiled step,
// keras_callback and keras_reporter in a fit against a live `renorm-tune serve`, and the README's Keras objective as
// printed (test/clients/fixtures/keras_driver.py).
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, checkReadmeObjective, liveServer, runVenvPython } from './helpers.js';
import { venvMissing } from '../python_venv.js';

const noKeras = venvMissing(['keras', 'tensorflow', 'torch', 'jax'], 'the Keras 3 layer and callbacks would run');
const BACKENDS = ['tensorflow', 'torch', 'jax'] as const;

const KERAS_ENV = (backend: string) => ({ KERAS_BACKEND: backend, TF_CPP_MIN_LOG_LEVEL: '3', CUDA_VISIBLE_DEVICES: '' });

/** The driver's JSON for `mode` under `backend` (url: a live server, for the modes that need one). */
function driver(mode: string, backend: string, url?: string): Record<string, any> {
  const out = runVenvPython([join(FIXTURES, 'keras_driver.py'), mode], url, KERAS_ENV(backend));
  assert.equal(out.backend, backend);
  return out;
}

for (const backend of BACKENDS) {
  test(`BatchRenormalization (Keras 3, ${backend}) equals the PyTorch BatchRenorm in float64, r and d clipped and not: outputs, gradients, statistics, inference; channels first and last, 2-D and 4-D`, { skip: noKeras }, () => {
    const rows = driver('crosscheck', backend).crosscheck as { shape: number[]; axis: number; worst: Record<string, number>; stepsClipped: number; stepsFree: number; outputScale: number }[];
    assert.equal(rows.length, 3);
    for (const row of rows) {
      const where = `${JSON.stringify(row.shape)} axis ${row.axis}`;
      assert.equal(row.stepsClipped, 2, `${where}: the tight limits bound`);
      assert.equal(row.stepsFree, 2, `${where}: r fell inside the wide limits`);
      assert.ok(row.outputScale > 1, where);
      for (const [what, diff] of Object.entries(row.worst)) assert.ok(diff < 1e-12, `${where}: ${what} differs by ${diff}`);
    }
  });

  test(`BatchRenormalization (${backend}) equals Keras's own BatchNormalization(renorm=True) where Keras has it (3.15), r and d clipped and not: outputs, statistics, inference, also with a mask; keras_callback warns that it cannot move that layer's limits`, { skip: noKeras }, () => {
    const got = driver('native', backend).native as {
      worst: Record<string, number>; shipped: Record<string, number>; stepsClipped: number; scale: number; warnings: string[];
      masked: { worst: { keras: number; kerasStatistics: number; alone: number; aloneStatistics: number }; refused: string | null };
    } | null;
    assert.ok(got, 'Keras 3.15 has BatchNormalization(renorm=True)');
    assert.equal(got.stepsClipped, 2, 'the tight limits bound');
    assert.ok(got.scale > 1);
    // Keras made to compute in float64 (keras_float64 in the driver): equal on every backend (1.8e-15 to 3.6e-15 when
    // measured). As Keras ships it computes in float32 on PyTorch and JAX (its promotion rules), so there the two agree
    // only to float32 rounding (1.8e-6 to 4.1e-6 when measured); on TensorFlow the two runs are the same.
    const tolerance = 1e-12;
    for (const [what, diff] of Object.entries(got.worst)) assert.ok(diff < tolerance, `${what} differs by ${diff}`);
    for (const [what, diff] of Object.entries(got.shipped)) assert.ok(diff < (backend === 'tensorflow' ? 1e-12 : 1e-5), `as Keras ships: ${what} differs by ${diff}`);
    // With a mask: Keras's own masked statistics (relative to the output's scale), and our layer fed the unmasked
    // positions alone (up to Keras's 1e-7 in the count); the masked positions, at 1000, counted nowhere.
    const m = got.masked.worst;
    assert.ok(m.keras < tolerance && m.kerasStatistics < tolerance, `masked: Keras's own differs by ${m.keras}, statistics by ${m.kerasStatistics}`);
    assert.ok(m.alone < 1e-6 && m.aloneStatistics < 1e-6, `masked: the unmasked positions alone differ by ${m.alone}, statistics by ${m.aloneStatistics}`);
    assert.match(got.masked.refused ?? '', /a mask must have the input's shape without its channels, the last axis \(axis=-1\), as BatchNormalization's; got mask shape \(2, 4\) for input shape \(2, 3, 4\) with axis 1/);
    assert.match(got.warnings[0] ?? '', /^keras_callback: own uses Keras's own renorm, whose limits are fixed when the layer is made: the schedule does not move them \(keras_convert_batchnorm\(model\) makes them BatchRenormalization/);
  });

  test(`BatchRenormalization(synchronized=True) (${backend}): ${backend === 'tensorflow' ? 'across 2 replicas (a MirroredStrategy over logical CPUs) it computes what one layer does on the whole batch, as Keras\'s own synchronized renorm does; keras_convert_batchnorm keeps a synchronized layer synchronized' : 'refused, as BatchNormalization\'s is, off TensorFlow'}`, { skip: noKeras }, () => {
    const got = driver('synchronized', backend).synchronized as { refused?: string | null; worst: Record<string, number>; stepsClipped: number; converted: [string, boolean] };
    if (backend !== 'tensorflow') {
      assert.equal(got.refused, `BatchRenormalization: synchronized=True needs the TensorFlow backend (as BatchNormalization's), not ${backend}; use SyncBatchRenorm on PyTorch`);
      return;
    }
    assert.equal(got.stepsClipped, 3, 'the limits bound at every step');
    for (const key of ['synced', 'syncedStatistics', 'own'] as const) assert.ok(got.worst[key]! < 1e-12, `${key} differs by ${got.worst[key]}`);
    assert.ok(got.worst.alone! > 0.1, `a layer that is not synchronized normalizes each replica's half by its own statistics (${got.worst.alone})`);
    assert.deepEqual(got.converted, ['BatchRenormalization', true]);
  });

  test(`keras_callback and keras_reporter in a fit (${backend}): every batch's limits the schedule's, a report per epoch at the optimizer's step, the value told; the saved model loads back`, { skip: noKeras }, async () => {
    const server = await liveServer();
    try {
      const got = driver('fit', backend, server.url).fit as {
        runs: { number: number; batches: number; worstLimit: number; distinctLimits: number; afterFit: number; valLoss: number[]; savedDiff: number; steps: number[] }[];
        trials: { number: number; state: string; value: number; reports: [number, number][] }[]; totalSteps: number;
      };
      assert.equal(got.runs.length, 2);
      for (const run of got.runs) {
        assert.deepEqual(run.steps, Array.from({ length: got.totalSteps }, (_, i) => i), 'one batch per optimizer step, from 0');
        assert.ok(run.worstLimit < 1e-6, `#${run.number}: a limit ${run.worstLimit} from schedule_at (float32 variables)`);
        assert.ok(run.distinctLimits >= 3, `#${run.number}: the limits moved along the ramp (${run.distinctLimits} settings)`);
        assert.equal(run.afterFit, 0, `#${run.number}: after the fit the layer holds the last step's limits`);
        assert.ok(run.savedDiff < 1e-6, `#${run.number}: the loaded model predicts ${run.savedDiff} off`);
        const trial = got.trials.find((t) => t.number === run.number)!;
        assert.equal(trial.state, 'COMPLETE');
        assert.deepEqual(trial.reports.map((p) => p[0]), [5, 10, 15], 'after each epoch, at the steps taken');
        trial.reports.forEach(([, value], i) => assert.ok(Math.abs(value - run.valLoss[i]!) < 1e-9));
        assert.ok(Math.abs(trial.value - run.valLoss.at(-1)!) < 1e-9, 'the objective returned the last val_loss');
      }
    } finally {
      await server.stop();
    }
  });

  test(`BatchRenormalization under mixed precision (${backend}, bfloat16): a bfloat16 output, float32 weights and statistics that track a float32 run; limits set before it is built hold`, { skip: noKeras }, () => {
    const got = driver('mixed', backend).mixed as { output: string; weights: string[]; limits: number[]; meanDrift: number; outputDiff: number; outputScale: number };
    assert.equal(got.output, 'bfloat16');
    assert.deepEqual(got.weights, ['float32']);
    assert.deepEqual(got.limits, [2, 0.5, 1]);
    // bfloat16 keeps 8 significant bits: inputs near 300 round by up to 1 in 256.
    assert.ok(got.meanDrift < 2e-3, `the moving mean drifted ${got.meanDrift} from the float32 run's`);
    assert.ok(got.outputDiff < 0.02 * got.outputScale, `output ${got.outputDiff} from the float32 run's (scale ${got.outputScale})`);
  });

  test(`keras_convert_batchnorm (${backend}) on a keras.applications MobileNetV2: every BatchNormalization replaced, the same outputs (also Keras's own renorm layer, and a masked sequence model), the copy trains under the schedule and the original is untouched; a custom layer's inside a Functional model; a subclassed model converted in place, or refused as a whole where one is made inside call`, { skip: noKeras }, () => {
    const got = driver('convert', backend).convert as {
      batchNorms: number; renorms: number; batchNormsLeft: number; momenta: number[]; inference: number; training: number;
      fitLoss: number[]; limitsAfter: number[]; originalAfter: number;
      subclassed: {
        batchNorms: number; batchNormsLeft: number; renorms: number; momenta: number[]; refused: string | null; same: boolean;
        held: (string | boolean)[]; trainableBefore: number; trainableAfter: number; inference: number; training: number;
        fitLoss: number[]; limitsAfter: number[]; reloaded: number; hidden: string | null; hiddenLeft: number;
      };
      customInFunctional: { kinds: string[]; inference: number; originalKinds: string[] }; inPlaceFunctional: string | null;
      ownRenorm: { kind: string; limits: number[]; training: number; inference: number };
      masked: { kind: string; training: number };
    };
    assert.equal(got.batchNorms, 52);
    assert.equal(got.renorms, 52);
    assert.equal(got.batchNormsLeft, 0);
    assert.deepEqual(got.momenta, [0.9], "the trial's renorm momentum on every layer");
    assert.ok(got.inference < 1e-6, `inference differs by ${got.inference}`);
    assert.ok(got.training < 1e-4, `training mode (limits 1, 1, 0: batch norm) differs by ${got.training}`);
    assert.ok(got.fitLoss.length === 2 && got.fitLoss.every(Number.isFinite));
    // 4 steps of a ramp over 4: the last step's rmax, on every layer, in float32.
    assert.deepEqual(got.limitsAfter, [Math.fround(2.5)]);
    assert.equal(got.originalAfter, 0, 'the original model is left as it was');
    // Keras's own renorm layer: its limits (rmin absent: no lower clip) and renorm statistics taken over, so that a
    // training step (its renorm statistics apart from the moving ones) computes what it did, in float32.
    assert.equal(got.ownRenorm.kind, 'BatchRenormalization');
    assert.deepEqual(got.ownRenorm.limits, [1.5, 0, 0.5]);
    assert.ok(got.ownRenorm.training < 1e-5, `training differs by ${got.ownRenorm.training}`);
    assert.ok(got.ownRenorm.inference < 1e-5, `inference differs by ${got.ownRenorm.inference}`);
    // A masked sequence model: the mask reaches the copy's layer, which takes BatchNormalization's masked statistics.
    assert.equal(got.masked.kind, 'BatchRenormalization');
    assert.ok(got.masked.training < 1e-6, `masked training differs by ${got.masked.training}`);
    // A custom layer's BatchNormalization inside a Functional model (the clone renames the layer): converted in the copy.
    assert.deepEqual(got.customInFunctional.kinds, ['BatchRenormalization', 'BatchRenormalization']);
    assert.deepEqual(got.customInFunctional.originalKinds, ['BatchNormalization', 'BatchNormalization'], 'the original keeps its own');
    assert.ok(got.customInFunctional.inference < 1e-6, `inference differs by ${got.customInFunctional.inference}`);
    assert.match(got.inPlaceFunctional ?? '', /^keras_convert_batchnorm: in_place=True is for subclassed models; 'functional\w*' is a Functional model, which is copied instead \(leave in_place out\)$/);
    // A subclassed model: refused without in_place; with it, converted in the model itself wherever an attribute holds
    // one (a private attribute, a custom layer's list, a tuple, a Sequential model, swapped for its copy).
    const sub = got.subclassed;
    assert.match(sub.refused ?? '', /^keras_convert_batchnorm: Net is a subclassed model, which Keras cannot copy layer by layer; convert it in place with in_place=True/);
    assert.equal(sub.same, true, 'in place: the model itself comes back');
    assert.equal(sub.batchNorms, 5);
    assert.equal(sub.renorms, 5);
    assert.equal(sub.batchNormsLeft, 0);
    assert.deepEqual(sub.momenta, [0.9]);
    assert.deepEqual(sub.held, ['BatchRenormalization', 'BatchRenormalization', 'BatchRenormalization', true]);
    assert.equal(sub.trainableAfter, sub.trainableBefore, 'the same trainable weights: the old layers are no longer tracked');
    assert.ok(sub.inference < 1e-5, `inference differs by ${sub.inference}`);
    assert.ok(sub.training < 1e-5, `training mode (limits 1, 1, 0: batch norm) differs by ${sub.training}`);
    assert.ok(sub.fitLoss.length === 2 && sub.fitLoss.every(Number.isFinite));
    assert.deepEqual(sub.limitsAfter, [Math.fround(2.5)]);
    assert.ok(sub.reloaded < 1e-6, `its saved weights, loaded into another model converted the same way, give outputs ${sub.reloaded} apart`);
    // One made inside call, held in no attribute: the whole model refused, and left as it was.
    assert.match(sub.hidden ?? '', /^keras_convert_batchnorm: Hidden holds BatchNormalization 'made_in_call' in no attribute of its layers .*nothing was changed/);
    assert.equal(sub.hiddenLeft, 2);
  });

  test(`keras_reporter (${backend}) ends the fit when the pruner asks; a monitor the logs lack is an error naming the ones they have`, { skip: noKeras }, () => {
    const got = driver('prune', backend).prune as { epochs: number; pruned: boolean; reports: [number, number][]; missing: string };
    assert.equal(got.epochs, 2, 'of 6: stopped after the report that was answered prune');
    assert.equal(got.pruned, true);
    assert.deepEqual(got.reports.map((p) => p[0]), [3, 6]);
    assert.match(got.missing, /'val_acc' is not among this epoch's logs \(loss\); pass monitor= one of them \(val_ ones need validation_data in fit\)/);
  });
}

test('BatchRenormalization under a jit-compiled (XLA) TensorFlow step: traced once, it follows the limits set afterwards', { skip: noKeras }, () => {
  const got = driver('compiled', 'tensorflow').compiled as { plain: number; relaxed: number; traces: number; settingsDiffer: number };
  assert.equal(got.traces, 1);
  assert.ok(got.settingsDiffer > 0.1, `the two settings must differ to tell them apart (${got.settingsDiffer})`);
  assert.ok(got.plain < 1e-5 && got.relaxed < 1e-5, JSON.stringify(got));
});

/** What the README's Keras objective leaves to the reader: a model built with a norm layer factory, and the data. */
const KERAS_PRELUDE = `
import numpy as np
import keras
_rng = np.random.default_rng(0)
_X = _rng.normal(0, 1, (1024, 16)).astype("float32")
_Y = (_X @ _rng.normal(0, 1, (16, 4))).argmax(1)
x_train, y_train = _X[:768], _Y[:768]
splits = {"validation": (_X[768:896], _Y[768:896]), "test": (_X[896:], _Y[896:])}
def make_keras_model(norm):
    return keras.Sequential([keras.Input((16,)), keras.layers.Dense(32), norm(), keras.layers.Activation("relu"),
                             keras.layers.Dense(32), norm(), keras.layers.Activation("relu"), keras.layers.Dense(4, activation="softmax")])
`;

describe('the README Keras objective for study.optimize (TensorFlow backend)', { skip: noKeras }, () => {
  let server: Awaited<ReturnType<typeof liveServer>>;
  before(async () => {
    server = await liveServer();
  });
  after(() => server?.stop());

  it('runs the baselines, the search and the evidence runs to a complete study, each reported per epoch and told', () => {
    checkReadmeObjective(KERAS_PRELUDE, '**For Keras 3**', server.url, 24, KERAS_ENV('tensorflow'));
  });
});
