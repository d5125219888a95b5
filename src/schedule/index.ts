// Public names of the schedule package, re-exported from the package root.
export type { Clipping, RampShape, BatchNormSchedule, PaperSchedule, RampSchedule, FormulaSchedule, ScheduleSpec, ScheduleTableRow, ScheduledTrial, ExportedSchedule } from './types.js';
export { scheduleAt, resolveSchedule, describeSchedule, isMonotone, isExportedSchedule } from './evaluate.js';
export { scheduleTable, interpolateTable, breakpoints, TABLE_GRID_POINTS, TABLE_TOLERANCE, MAX_TABLE_ROWS, type TableOptions } from './table.js';
export { validateSchedule, FORMULA_GRID_POINTS, type ValidateScheduleOptions } from './validate.js';
export { loadScheduleArg, validateExportedSchedule } from './load.js';
export { PAPER_DEFAULTS, paperAsRamp } from '../shared/ramp.js';
export { FORMULA_FUNCTIONS, FORMULA_VARIABLES } from './formula.js';
