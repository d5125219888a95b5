// Public names of the data package, re-exported from the package root.
export {};
