// Public names of the schedule package, re-exported from the package root.
export {};
