// The plain-text tables of the CLI (cluster status, scenario summary).

/** Rows (the first is the header) as columns padded to their widest cell, two spaces apart. */
export function formatColumns(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n');
}
