/** Compares two Redis Stream entry ids (`<ms>-<seq>`) numerically: negative when a < b. */
export function comparePositions(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  if (am.length !== bm.length) return am.length - bm.length;
  if (am !== bm) return am < bm ? -1 : 1;
  if (as.length !== bs.length) return as.length - bs.length;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** The stream position of a cursor string `<epoch>_<offset>_<position>` (no validation: cursors built by us). */
export const positionOf = (cursor: string): string => cursor.slice(cursor.lastIndexOf('_') + 1);
