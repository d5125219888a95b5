// Public names of the engine package, re-exported from the package root.
export {};
