// The landing page's queue panel: who is on the study queue that `serve --redis` watches (GET /api/queue), the
// workers with their slots, what each trains on and the trials it holds; the coordinators and their studies; the
// jobs; and trials whose worker is gone. Hidden when the server watches no queue.
import type { QueueStatus } from '../../src/distributed/status.js';
import { heldText, trainsOnText } from '../../src/shared/queue_text.js';
import type { QueueAnswer } from '../../src/server/queue_view.js';
import { apiJson } from './api.js';
import { queueWarning } from '../data/queue_note.js';
import { byId, clear, el, messageNodes } from './dom.js';

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** `0.2.0`, or `0.1.9 (another build: refused)`: a peer of another version or schema takes no trials of this build. */
function buildText(b: { version: string; otherBuild: boolean }): string {
  return `${b.version}${b.otherBuild ? ' (another build: refused)' : ''}`;
}

function render(root: HTMLElement, s: QueueStatus): void {
  const jobs = `${s.jobs.waiting} waiting for a worker, ${s.jobs.active} taken${s.jobs.delayed ? `, ${s.jobs.delayed} delayed` : ''}`;
  root.append(
    el('p', { class: 'muted', id: 'queue-summary' },
      `${s.redis} prefix '${s.prefix}' · ${s.workers.length ? `${plural(s.workers.length, 'worker')}, ${plural(s.slots, 'slot')} in all` : 'no worker alive'} · jobs: ${jobs}`),
  );
  const warning = queueWarning(s);
  if (warning) root.appendChild(el('p', { class: 'note-inline', id: 'queue-warning' }, ...messageNodes(warning)));
  if (s.workers.length) {
    const body = el('tbody');
    for (const w of s.workers) {
      // Without the served database's word (a coordinator's study on another database) nothing is known of its trials.
      const training = w.training === undefined ? '—' : w.training.length === 0 ? 'nothing' : w.training.map((t) => el('div', {}, heldText(t)));
      body.appendChild(el('tr', { 'data-owner': w.owner, class: w.otherBuild ? 'other-build' : undefined },
        el('td', {}, w.owner),
        el('td', { class: 'num' }, w.slots),
        el('td', {}, trainsOnText(w) || 'each study\'s backend'),
        el('td', { class: 'wrap' }, ...(Array.isArray(training) ? training : [training])),
        el('td', { class: w.otherBuild ? 'bad' : undefined }, buildText(w))));
    }
    root.appendChild(el('table', { class: 'grid-table', id: 'queue-workers' },
      el('thead', {}, el('tr', {}, ...['Worker', 'Slots', 'Trains on', 'Training', 'Version'].map((h) => el('th', {}, h)))), body));
  }
  if (s.coordinators.length) {
    const body = el('tbody');
    for (const c of s.coordinators) {
      const study = c.inDatabase === false
        ? el('span', {}, c.studyName, el('span', { class: 'muted' }, ' (on another database)'))
        : el('a', { href: `study.html?id=${encodeURIComponent(c.studyId)}` }, c.studyName);
      body.appendChild(el('tr', { 'data-owner': c.owner }, el('td', {}, c.owner), el('td', {}, study), el('td', { class: c.otherBuild ? 'bad' : undefined }, buildText(c))));
    }
    root.appendChild(el('table', { class: 'grid-table', id: 'queue-coordinators' },
      el('thead', {}, el('tr', {}, ...['Coordinator', 'Study', 'Version'].map((h) => el('th', {}, h)))), body));
  } else {
    root.appendChild(el('p', { class: 'muted' }, 'No coordinator alive: no study hands out trials on this queue.'));
  }
  if (s.orphans?.length) {
    root.appendChild(el('div', { class: 'note-inline', id: 'queue-orphans' },
      el('strong', {}, `Trials held by no live worker (gone or frozen): ${s.orphans.length}. `),
      'Each goes back to the queue when its lease runs out.',
      el('ul', {}, ...s.orphans.map((t) => el('li', {}, `${heldText(t)}, lease of ${t.owner} until ${t.leaseExpiresAt}`)))));
  }
}

/** Fills #queue from GET /api/queue; hidden when the server watches no queue, saying so when Redis is away. */
export async function loadQueuePanel(): Promise<void> {
  const section = byId('queue');
  const root = byId('queue-body');
  let answer: QueueAnswer;
  try {
    answer = await apiJson<QueueAnswer>('/api/queue');
  } catch (err) {
    section.hidden = false;
    clear(root);
    root.appendChild(el('div', { class: 'status error', role: 'status' }, ...messageNodes(`Could not read the queue: ${err instanceof Error ? err.message : String(err)}`)));
    return;
  }
  section.hidden = !answer.watched;
  clear(root);
  if (answer.watched) render(root, answer);
}
