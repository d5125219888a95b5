// Writes small IDX files for data tests (optionally gzipped, optionally corrupted by the caller).
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function idxBytes(dims: number[], data: Uint8Array, magic = [0, 0, 8, dims.length]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.set(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'renorm-data-'));
}

/** A tiny 4x3-pixel, 3-class dataset: image i is filled with the value i, label i % 3. */
export function writeTinyDataset(dir: string, opts: { train?: number; test?: number; gzip?: boolean } = {}) {
  const make = (n: number, prefix: string) => {
    const images = new Uint8Array(n * 12).map((_, p) => Math.floor(p / 12) % 256);
    const labels = new Uint8Array(n).map((_, i) => i % 3);
    const imgFile = join(dir, `${prefix}-images${opts.gzip ? '.gz' : ''}`);
    const lblFile = join(dir, `${prefix}-labels${opts.gzip ? '.gz' : ''}`);
    const img = idxBytes([n, 4, 3], images);
    const lbl = idxBytes([n], labels);
    writeFileSync(imgFile, opts.gzip ? gzipSync(img) : img);
    writeFileSync(lblFile, opts.gzip ? gzipSync(lbl) : lbl);
    return { imgFile, lblFile };
  };
  const train = make(opts.train ?? 30, 'train');
  const test = make(opts.test ?? 9, 'test');
  return { type: 'idx' as const, trainImages: train.imgFile, trainLabels: train.lblFile, testImages: test.imgFile, testLabels: test.lblFile };
}
