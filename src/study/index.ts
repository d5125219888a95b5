// Public names of the study package, re-exported from the package root.
export {};
