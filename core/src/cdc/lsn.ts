/**
 * PostgreSQL log sequence numbers (`16/B374D848`): parsed to bigint for arithmetic and comparison, printed
 * in PostgreSQL's own unpadded upper-case form so the same position always reads the same.
 */

/** Parses `X/Y` (hex halves, padded or not) into a 64-bit position. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!match) throw new Error(`not an LSN: "${text}"`);
  return (BigInt(`0x${match[1] as string}`) << 32n) | BigInt(`0x${match[2] as string}`);
}

/** Prints a position as PostgreSQL does: `16/B374D848`. */
export function formatLsn(value: bigint): string {
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The canonical form of an LSN text (unpadded, upper case). */
export const normalizeLsn = (text: string): string => formatLsn(parseLsn(text));
