// The API contracts the dashboard reads, re-exported as types only so no Node code reaches the browser.
export type { ScheduleSpec, ExportedSchedule, RampShape } from '../src/schedule/types.js';
export type { TrialRecord, TrialState, Params, ParamValue, IntermediateValue, Direction } from '../src/study/types.js';
export type { StudySummary, StudyView, GpView, ImportanceView, FinalScore, StudyEvent } from '../src/study/api_types.js';

/** One point of a chart series; `x` may be a category name for categorical parameters. */
export interface Point {
  x: number;
  y: number;
}

/** A point that remembers which trial it came from, so tooltips and clicks can name it. */
export interface SeriesPoint {
  x: number | string;
  y: number | null;
  trialId?: number;
  name?: string;
}

/** A chart.js dataset as produced by the data-shaping modules (plain data, no DOM). */
export interface Series {
  label: string;
  data: Array<SeriesPoint | number | null | [number, number]>;
  borderColor?: string | string[];
  backgroundColor?: string | string[];
  borderDash?: number[];
  borderWidth?: number;
  pointRadius?: number | number[];
  pointStyle?: string | string[];
  rotation?: number | number[];
  /** false: points are not clipped at the chart area (a point pinned at its edge). */
  clip?: boolean;
  showLine?: boolean;
  stepped?: boolean | 'before' | 'after';
  fill?: boolean | string | number;
  type?: 'line' | 'bar' | 'scatter';
  yAxisID?: string;
  order?: number;
  /** Trial id a series belongs to, so a click can open that trial. */
  trialId?: number;
  pointBackgroundColor?: string | string[];
}
