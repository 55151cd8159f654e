/**
 * Evidence an operator can read: each prove test prints one line
 *   PROVE <area>: key=value key=value ...
 * which scripts/prove.mjs collects into the summary at the end of `npm run prove`.
 *
 * PROVE_LONG=1 selects the long durations and case counts (npm run prove); without it, the short
 * ones that CI runs inside `npm test`.
 */
export const LONG = process.env.PROVE_LONG === '1';

/** A number from the environment, else the long or the short default. */
export function knob(name: string, short: number, long: number): number {
  const v = process.env[name];
  if (v !== undefined && v !== '' && Number.isFinite(Number(v))) return Number(v);
  return LONG ? long : short;
}

export function evidence(area: string, figures: Record<string, string | number>): void {
  const text = Object.entries(figures)
    .map(([k, v]) => `${k}=${String(v).replace(/\s+/g, '_')}`)
    .join(' ');
  console.log(`PROVE ${area}: ${text}`);
}
