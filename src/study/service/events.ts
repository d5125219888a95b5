// In-process event bus: every trial and study change made through this process is published here (the server streams it as SSE).
import type { StudyEvent } from '../api_types.js';

type Listener = (event: StudyEvent) => void;

export class StudyEventBus {
  private readonly byStudy = new Map<string, Set<Listener>>();

  subscribe(studyId: string, listener: Listener): () => void {
    let set = this.byStudy.get(studyId);
    if (!set) this.byStudy.set(studyId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.byStudy.get(studyId) === set) this.byStudy.delete(studyId);
    };
  }

  has(studyId: string): boolean {
    return this.byStudy.has(studyId);
  }

  emit(event: StudyEvent): void {
    // A throwing listener (a closed SSE socket) must not break the trial that caused the event, nor other listeners.
    for (const l of [...(this.byStudy.get(event.studyId) ?? [])]) {
      try {
        l(event);
      } catch {
        // ignored on purpose
      }
    }
  }
}
