// Landing page: every study with its progress and its best value next to the BatchNorm and paper baselines.
import type { StudySummary } from './types.js';
import { CLI } from '../src/shared/names.js';
import { stopRequestText } from '../src/shared/stopped.js';
import { executorWords } from '../src/shared/trained_on.js';
import { apiJson, ApiFailure } from './ui/api.js';
import { byId, clear, el, setMessage } from './ui/dom.js';
import { loadQueuePanel } from './ui/queue_panel.js';
import { formatGain, formatValue, summaryRow, type SummaryRow } from './data/summary.js';

/** Search values are single noisy runs: shown, never coloured as a win (the study page has the paired verdict). */
function gainCell(g: number | null, metric: string): HTMLElement {
  return el('span', { class: 'gain', title: 'search values, one run each: open the study for the paired verdict' }, formatGain(g, metric));
}

function progressCell(r: SummaryRow): HTMLElement {
  const label = r.budget ? `${r.done} / ${r.budget}` : `${r.done} done`;
  const bar = el('div', { class: 'bar' });
  const fill = el('div', { class: 'fill' });
  fill.style.width = `${Math.round((r.progress ?? 0) * 100)}%`;
  bar.appendChild(fill);
  return el('div', { class: 'progress' }, r.budget ? bar : null, el('span', {}, label), r.running ? el('span', { class: 'muted' }, ` · ${r.running} running`) : null, r.failed ? el('span', { class: 'bad' }, ` · ${r.failed} failed`) : null);
}

function render(studies: StudySummary[]): void {
  const root = byId('studies');
  clear(root);
  if (studies.length === 0) {
    root.appendChild(
      el('div', { class: 'empty' }, el('h2', {}, 'No studies yet'), el('p', {}, 'No studies yet — run ', el('code', {}, `${CLI} run configs/quick.json`), ' to start one (add ', el('code', {}, '--port 8080'), ' to watch it here live), or create an external study with ', el('code', {}, 'POST /api/studies'), '.')),
    );
    return;
  }
  const rows = studies.map((s) => ({ ...summaryRow(s), held: stopRequestText(s) }));
  const head = el('tr', {}, ...['Study', 'State', 'Progress', 'Best', 'BatchNorm', 'Paper', 'Best vs BatchNorm', 'Best vs paper'].map((h) => el('th', {}, h)));
  const body = el('tbody');
  for (const r of rows) {
    body.appendChild(
      el(
        'tr',
        { 'data-study-id': r.id },
        el('td', {}, el('a', { href: r.href, class: 'study-link' }, r.name), el('div', { class: 'muted small' }, `${executorWords(r.executor)} · ${r.id}`)),
        el('td', {}, el('span', { class: `badge state-${r.state.toLowerCase()}`, ...(r.held ? { title: r.held } : {}) }, r.state), r.held ? el('div', { class: 'muted small held' }, 'held until resume') : null),
        el('td', {}, progressCell(r)),
        el('td', { class: 'num strong' }, formatValue(r.best, r.metric)),
        el('td', { class: 'num' }, formatValue(r.batchnorm, r.metric)),
        el('td', { class: 'num' }, formatValue(r.paper, r.metric)),
        el('td', { class: 'num' }, gainCell(r.gainVsBatchnorm, r.metric)),
        el('td', { class: 'num' }, gainCell(r.gainVsPaper, r.metric)),
      ),
    );
  }
  root.appendChild(el('table', { class: 'grid-table', id: 'study-table' }, el('thead', {}, head), body));
}

async function load(): Promise<void> {
  const status = byId('status');
  try {
    // The server wraps the list ({ studies: [...] }); a bare array is accepted too.
    const body = await apiJson<StudySummary[] | { studies: StudySummary[] }>('/api/studies');
    const studies = Array.isArray(body) ? body : body.studies;
    if (!Array.isArray(studies)) throw new Error('GET /api/studies returned no list of studies');
    status.textContent = '';
    status.className = 'status';
    // Redrawn only when something changed: a redraw every poll lost a selection being copied (a study id) and the
    // keyboard focus on a study's link.
    const drawn = JSON.stringify(studies);
    if (drawn !== lastDrawn) render(studies);
    lastDrawn = drawn;
  } catch (err) {
    status.className = 'status error';
    setMessage(status, `Could not load studies: ${err instanceof ApiFailure ? err.message : String(err)}`);
  }
}

/** The list as last drawn (its JSON). */
let lastDrawn = '';

void load();
void loadQueuePanel();
// The list is small: polling keeps it fresh without one event stream per study.
setInterval(() => {
  void load();
  void loadQueuePanel();
}, 5000);
