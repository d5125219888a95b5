// Public names of the train package, re-exported from the package root.
export {};
