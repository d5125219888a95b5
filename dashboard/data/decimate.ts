// Largest-Triangle-Three-Buckets downsampling, so hundreds of long curves stay cheap to draw without losing their shape.
import type { Point } from '../types.js';

/**
 * Keeps the first and last point and, in each of `threshold - 2` buckets, the point forming the largest triangle with
 * the previously kept point and the next bucket's average (Steinarsson 2013). Points must be sorted by x.
 */
export function lttb(points: readonly Point[], threshold = 200): Point[] {
  if (!Number.isInteger(threshold) || threshold < 3) throw new RangeError(`lttb: threshold must be an integer >= 3, got ${threshold}`);
  const n = points.length;
  if (n <= threshold) return points.slice();
  const out: Point[] = [points[0]];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    const start = Math.floor(i * every) + 1;
    const end = Math.min(Math.floor((i + 1) * every) + 1, n - 1);
    const nextStart = end;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += points[j].x;
      avgY += points[j].y;
    }
    const count = Math.max(nextEnd - nextStart, 1);
    avgX /= count;
    avgY /= count;
    const pa = points[a];
    let best = start;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      const area = Math.abs((pa.x - avgX) * (points[j].y - pa.y) - (pa.x - points[j].x) * (avgY - pa.y));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    out.push(points[best]);
    a = best;
  }
  out.push(points[n - 1]);
  return out;
}
