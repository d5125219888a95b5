// The sortable trial table and the detail panel a row (or any chart point) opens.
import type { StudyView, TrialRecord } from '../types.js';
import { pageOf, showsWorkers, sortRows, tablePage, tableRows, type SortKey } from '../data/table.js';
import { formatValue } from '../data/summary.js';
import { describeSchedule } from '../../src/shared/describe.js';
import { trialName } from '../data/trials.js';
import { backendOnDevice, trainedBy, trainedOn } from '../../src/shared/trained_on.js';
import { isExternalOwner } from '../../src/shared/owners.js';
import { byId, clear, el } from './dom.js';
import { renderTrialCharts } from './study_charts.js';

export class TrialTable {
  private key: SortKey = 'number';
  private ascending = true;
  private view: StudyView | null = null;
  /** The page shown (data/table.ts: TABLE_PAGE_ROWS rows each); a selection elsewhere turns to its page. */
  private page = 0;
  private turnToSelected = false;

  constructor(
    private readonly table: HTMLTableElement,
    private readonly pager: HTMLElement,
    private readonly onOpen: (trialId: number) => void,
  ) {}

  /** The trial shown in the detail panel, highlighted in the table. */
  selected: number | null = null;

  update(view: StudyView): void {
    this.view = view;
    this.draw();
  }

  select(trialId: number): void {
    this.selected = trialId;
    this.turnToSelected = true;
    this.draw();
  }

  sortBy(key: SortKey): void {
    if (this.key === key) this.ascending = !this.ascending;
    else {
      this.key = key;
      // Values read best-first by default; everything else in natural order.
      this.ascending = key === 'value' ? this.view?.direction !== 'maximize' : true;
    }
    this.page = 0;
    this.draw();
  }

  private draw(): void {
    const view = this.view;
    if (!view) return;
    clear(this.table);
    const paramNames: string[] = [];
    for (const t of view.trials) for (const k of Object.keys(t.params ?? {})) if (!paramNames.includes(k)) paramNames.push(k);
    const all = tableRows(view.trials, view.finalValidation);
    const workers = showsWorkers(all);
    const cols: Array<[SortKey, string]> = [
      ['number', '#'],
      ['name', 'trial'],
      ['state', 'state'],
      ['value', view.metric],
      ...paramNames.map((p): [SortKey, string] => [`param:${p}`, p]),
      ['duration', 'duration (s)'],
      ...(workers ? [['worker', 'worker'] as [SortKey, string]] : []),
    ];
    const head = el('tr');
    for (const [key, label] of cols) {
      const arrow = this.key === key ? (this.ascending ? ' ▲' : ' ▼') : '';
      const th = el('th', { 'data-key': key, class: 'sortable', tabindex: '0', 'aria-sort': this.key === key ? (this.ascending ? 'ascending' : 'descending') : 'none' }, label, arrow);
      th.addEventListener('click', () => this.sortBy(key));
      th.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') this.sortBy(key);
      });
      head.appendChild(th);
    }
    const body = el('tbody');
    if (view.trials.length === 0) body.appendChild(el('tr', {}, el('td', { colspan: String(cols.length), class: 'note' }, 'No trials yet.')));
    const sorted = sortRows(all, this.key, this.ascending);
    if (this.turnToSelected && this.selected !== null) this.page = pageOf(sorted, this.selected) ?? this.page;
    this.turnToSelected = false;
    const shown = tablePage(sorted, this.page);
    this.page = shown.page;
    this.drawPager(shown.page, shown.pages, shown.first, shown.rows.length, shown.total);
    for (const r of shown.rows) {
      const tr = el(
        'tr',
        { 'data-trial-id': String(r.id), class: `state-row-${r.state.toLowerCase()}${r.id === this.selected ? ' selected' : ''}`, title: r.failureReason ?? '', tabindex: '0' },
        el('td', { class: 'num' }, r.number),
        el('td', {}, r.name),
        el('td', {}, el('span', { class: `badge state-${r.state.toLowerCase()}` }, r.state)),
        el('td', { class: 'num' }, formatValue(r.value, view.metric)),
        ...paramNames.map((p) => el('td', { class: 'num' }, fmtParam(r.params[p]))),
        el('td', { class: 'num' }, r.duration === null ? '—' : r.duration.toFixed(1)),
        workers ? el('td', { class: 'worker' }, r.worker ?? '—') : null,
      );
      tr.addEventListener('click', () => this.onOpen(r.id));
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          this.onOpen(r.id);
        }
      });
      body.appendChild(tr);
    }
    this.table.appendChild(el('thead', {}, head));
    this.table.appendChild(body);
  }

  /** Previous and next, and which rows these are; nothing while every row fits on one page. */
  private drawPager(page: number, pages: number, first: number, count: number, total: number): void {
    clear(this.pager);
    this.pager.hidden = pages <= 1;
    if (pages <= 1) return;
    const turn = (to: number, label: string) => {
      const b = el('button', { type: 'button', class: 'pager-turn' }, label);
      b.disabled = to < 0 || to >= pages;
      b.addEventListener('click', () => {
        this.page = to;
        this.draw();
      });
      return b;
    };
    const where = el('span', { class: 'pager-where' }, `rows ${first + 1}–${first + count} of ${total} (page ${page + 1} of ${pages})`);
    this.pager.append(turn(page - 1, '‹ previous'), where, turn(page + 1, 'next ›'));
  }
}

function fmtParam(v: number | string | undefined): string {
  if (v === undefined) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(3);
  return v;
}

/** Fills the detail panel for one trial: params, schedule, failure reason as text, and its two charts. */
export function renderTrialDetail(view: StudyView, t: TrialRecord): void {
  const panel = byId('trial-detail');
  panel.hidden = false;
  byId('detail-title').textContent = `Trial ${trialName(t)} — ${t.state}${t.value !== null ? ` — ${view.metric} ${formatValue(t.value, view.metric)}` : ''}`;
  const dl = byId('detail-params');
  clear(dl);
  const entries = Object.entries(t.params ?? {});
  if (entries.length === 0) dl.appendChild(el('dd', { class: 'muted' }, 'no parameters (baseline or fixed schedule)'));
  for (const [k, v] of entries) dl.append(el('dt', {}, k), el('dd', {}, fmtParam(v)));
  dl.append(el('dt', {}, 'seed'), el('dd', {}, t.seed));
  const on = trainedOn(t.metrics);
  if (on) dl.append(el('dt', {}, 'trained on'), el('dd', {}, backendOnDevice(on.backend, on.device)));
  const by = trainedBy(t.metrics);
  if (by) dl.append(el('dt', {}, 'trained by'), el('dd', {}, by));
  if (t.lease) {
    dl.append(...(isExternalOwner(t.lease.owner)
      ? [el('dt', {}, 'lease'), el('dd', {}, `an outside trainer's, until ${t.lease.expiresAt}`)]
      : [el('dt', {}, 'training on'), el('dd', {}, `${t.lease.owner} (lease until ${t.lease.expiresAt})`)]));
  }
  byId('detail-schedule').textContent = describeSchedule(t.schedule);
  const failure = byId('detail-failure');
  failure.hidden = !t.failureReason;
  failure.textContent = t.failureReason ? `Failure: ${t.failureReason}` : '';
  renderTrialCharts(view, t);
}
