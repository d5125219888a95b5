// Shapes the parameters' importance (GET /api/studies/:id/importance) into one horizontal bar series, largest first.
import type { ImportanceView, Series } from '../types.js';

const SHARE_COLOR = '#2563eb';
const TENTATIVE_COLOR = '#bfdbfe';

export interface ImportanceData {
  labels: string[];
  datasets: Series[];
  /** Under the chart: how many finished trials the shares come from. */
  foot: string;
}

/** A note instead of bars while loading, when it failed to load, before there is a model, and when the model is flat. */
export function importanceData(view: ImportanceView | null, error: string | null = null): ImportanceData | { note: string } {
  if (error) return { note: `Importance could not be loaded: ${error}.` };
  if (!view) return { note: 'Loading…' };
  // Equal bars for a flat model would read as "every parameter matters as much"; nothing showed that.
  if (view.status === 'flat') return { note: `Importance is unavailable: ${view.reason ?? 'the model sees no variation'}.` };
  if (!view.available || !view.importance) return { note: `No importance yet: ${view.reason ?? 'the model needs more finished trials'}.` };
  const entries = Object.entries(view.importance).sort((a, b) => b[1] - a[1]);
  // A share the trials do not yet need is drawn pale and labelled: it may belong to another parameter.
  const tentative = new Set(view.tentative ?? []);
  return {
    labels: entries.map(([k]) => (tentative.has(k) ? `${k} (tentative)` : k)),
    datasets: [{ label: 'share of the variation', data: entries.map(([, v]) => v), type: 'bar', backgroundColor: entries.map(([k]) => (tentative.has(k) ? TENTATIVE_COLOR : SHARE_COLOR)) }],
    // Past 60 trials the server keeps a result until 10% more have finished: say which trials these bars describe.
    foot: view.observations === undefined ? '' : `From ${view.observations} finished trials.`,
  };
}
