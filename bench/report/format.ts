/** Markdown helpers for docs/benchmarks.md. */
import type { Summary } from '../lib/stats';

export function table(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function num(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
}

/** `median (min–max)` with a unit. */
export function spread(s: Summary, digits = 0, unit = ''): string {
  return `${num(s.median, digits)}${unit} (${num(s.min, digits)}–${num(s.max, digits)})`;
}

export function times(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a';
}

export function kib(bytes: number): string {
  return `${num(bytes / 1024, 1)} KiB`;
}

export function mib(bytes: number): string {
  return `${num(bytes / 2 ** 20, 0)} MiB`;
}

export function verdict(met: boolean): string {
  return met ? 'met' : '**missed**';
}
