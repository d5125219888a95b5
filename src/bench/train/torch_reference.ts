// Drives src/bench/train/bench_torch.py as a long-lived child so torch rounds interleave with ours on a noisy machine.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { shapeText, type InputShape } from '../../engine/models.js';
import { REFERENCE_PYTHON as PYTHON, referenceScriptPath } from '../python_reference.js';

/** tsc does not copy .py files: the script is found in src/bench/train/ whether this runs from dist/ or src/. */
const TORCH_SCRIPT = 'train/bench_torch.py';

/** null when torch is usable, else the reason it is skipped. */
export function torchUnavailableReason(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error) return `${PYTHON} not runnable (${probe.error.message})`;
  if (probe.status !== 0) return `${PYTHON} -c "import torch" failed: ${(probe.stderr || '').trim().split('\n').pop()}`;
  return null;
}

export class TorchBench {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly pending: ((line: string) => void)[] = [];
  private stderr = '';

  private constructor(batchSize: number, width: number, input: InputShape) {
    this.child = spawn(PYTHON, [referenceScriptPath(TORCH_SCRIPT), '--batch-size', String(batchSize), '--width', String(width), '--input', shapeText(input), '--serve'], { stdio: 'pipe' });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error(`bench_torch.py exited: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`));
      this.child.once('exit', onExit);
      this.pending.push((line) => {
        this.child.off('exit', onExit);
        resolve(JSON.parse(line) as Record<string, unknown>);
      });
    });
  }

  /** `params`: the PyTorch net's parameter count, to check against ours (the same network). */
  static async start(batchSize: number, width: number, input: InputShape): Promise<{ bench: TorchBench; version: string; params: number }> {
    const bench = new TorchBench(batchSize, width, input);
    const ready = await bench.next();
    return { bench, version: String(ready['torch']), params: Number(ready['params']) };
  }

  /** Runs `steps` training steps in torch; resolves to images per wall-clock second and per CPU second. */
  async run(steps: number): Promise<{ wall: number; cpu: number }> {
    const answer = this.next();
    this.child.stdin.write(`${steps}\n`);
    const a = await answer;
    return { wall: Number(a['imagesPerSecond']), cpu: Number(a['imagesPerCpuSecond']) };
  }

  close(): void {
    this.child.stdin.end('0\n');
    this.lines.close();
  }
}
