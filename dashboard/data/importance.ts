// Shapes the parameters' importance (GET /api/studies/:id/importance) into one horizontal bar series, largest first.
import type { ImportanceView, Series } from '../types.js';

export interface ImportanceData {
  labels: string[];
  datasets: Series[];
}

/** null (with the reason for the page to show) when there is no model to ask yet. */
export function importanceData(view: ImportanceView | null): ImportanceData | { note: string } {
  if (!view) return { note: 'Loading…' };
  if (!view.available || !view.importance) return { note: `No importance yet: ${view.reason ?? 'the model needs more finished trials'}.` };
  const entries = Object.entries(view.importance).sort((a, b) => b[1] - a[1]);
  return {
    labels: entries.map(([k]) => k),
    datasets: [{ label: 'share of the variation', data: entries.map(([, v]) => v), type: 'bar', backgroundColor: '#2563eb' }],
  };
}
