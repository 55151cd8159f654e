/**
 * Thresholds as the Monitoring Plugins guidelines define them ("Threshold and ranges"):
 * `[@]start:end`, where `start` may be left out when it is 0 (`10` is `0:10`), `end` left empty
 * for infinity (`10:`), `~` stands for minus infinity, and the bounds belong to the range. A
 * value outside the range alerts; with a leading `@`, a value inside it does. So `-w 0` warns
 * from 1, `-w 5` from 6, and `-w 5:` below 5.
 */
export interface PluginRange {
  /** As given: perfdata repeats it. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly inside: boolean;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** The range, or a one-line reason it is not one. */
export function parsePluginRange(text: string): PluginRange | string {
  const inside = text.startsWith('@');
  const body = inside ? text.slice(1) : text;
  const colon = body.indexOf(':');
  const startText = colon < 0 ? '' : body.slice(0, colon);
  const endText = colon < 0 ? body : body.slice(colon + 1);
  if (endText === '' ? startText === '' : endText.includes(':')) return `${JSON.stringify(text)} is not a range ([@]start:end, e.g. 10, 10:, ~:10, 10:20, @10:20)`;
  const bound = (t: string, empty: number): number | undefined => (t === '' ? empty : t === '~' && empty === 0 ? -Infinity : NUMBER.test(t) ? Number(t) : undefined);
  const start = bound(startText, 0);
  const end = bound(endText, Infinity);
  if (start === undefined || end === undefined) return `${JSON.stringify(text)} is not a range ([@]start:end, e.g. 10, 10:, ~:10, 10:20, @10:20)`;
  if (start > end) return `${JSON.stringify(text)}: the start is above the end`;
  return { text, start, end, inside };
}

/** Whether `value` alerts against the range. */
export function alerts(range: PluginRange, value: number): boolean {
  const within = value >= range.start && value <= range.end;
  return range.inside ? within : !within;
}
