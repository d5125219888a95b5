// How the study commands print a value: 4 significant digits, '-' for none.
export const sig4 = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : Number(v.toPrecision(4)).toString());
