// Parses IDX files (the MNIST container format: big-endian magic, dimension sizes, then raw values); unsigned bytes only.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Reads a file, transparently gunzipping `.gz` content (detected by its magic bytes, not its name). */
export function readIdxFile(file: string): IdxArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new DataError(file, `cannot read IDX file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new DataError(file, `corrupt gzip data: ${(err as Error).message}`);
    }
  }
  return parseIdx(bytes, file);
}

/** Magic is 0x00 0x00 <type> <ndims>; type 0x08 is unsigned byte, the only one image datasets use. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) throw new DataError(file, `truncated: ${bytes.length} bytes, shorter than the 4-byte IDX magic`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(file, `bad magic 0x${Buffer.from(bytes.subarray(0, 4)).toString('hex')}: not an IDX file`);
  }
  if (bytes[2] !== 0x08) throw new DataError(file, `unsupported IDX value type 0x${bytes[2].toString(16)}; only unsigned bytes (0x08) are supported`);
  const ndims = bytes[3];
  if (ndims < 1 || ndims > 4) throw new DataError(file, `unsupported number of dimensions ${ndims}; expected 1 (labels) or 3-4 (images)`);
  const header = 4 + 4 * ndims;
  if (bytes.length < header) throw new DataError(file, `truncated header: ${bytes.length} bytes, need ${header}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < header + size) {
    throw new DataError(file, `truncated: header promises ${dims.join('x')} = ${size} values, file holds ${bytes.length - header}`);
  }
  if (bytes.length > header + size) {
    throw new DataError(file, `${bytes.length - header - size} trailing bytes after ${dims.join('x')} values: wrong dimensions or a corrupt file`);
  }
  return { dims, data: bytes.subarray(header, header + size) };
}
