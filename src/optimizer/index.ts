// Public names of the optimizer package, re-exported from the package root.
export {};
