/**
 * @module HTTP dates: formatting (`Sun, 27 Jan 2013 18:43:20 GMT`) and the
 * tolerant parsing that conditional request headers need.
 */

/**
 * Formats a time as an HTTP date (RFC 9110 IMF-fixdate), like Tornado's
 * `format_timestamp`. A number is seconds since the epoch (Tornado's unit, not
 * JavaScript's milliseconds); fractions are dropped.
 * @throws {RangeError} when the time is not finite.
 */
export function formatTimestamp(date: Date | number): string {
  const ms = typeof date === 'number' ? Math.floor(date) * 1000 : date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('formatTimestamp needs a finite time');
  // toUTCString() is specified (ECMA-262 Date.prototype.toUTCString) as exactly
  // "Www, DD Mmm YYYY HH:MM:SS GMT" for years 0..9999.
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/** Zone names RFC 5322 section 4.3 still allows, in minutes east of UTC. */
const ZONES: Record<string, number> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
};

// IMF-fixdate and RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT"), optional weekday.
const RFC_DATE_RE =
  /^(?:[A-Za-z]+,?\s+)?(\d{1,2})[\s-]+([A-Za-z]{3})[A-Za-z]*[\s-]+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s+([A-Za-z]+|[+-]\d{4}))?\s*$/;
// asctime ("Sun Nov  6 08:49:37 1994").
const ASCTIME_RE =
  /^[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})\s*$/;

function build(
  day: number,
  monthName: string,
  yearText: string,
  hour: number,
  minute: number,
  second: number,
  zone: string | undefined,
): Date | null {
  const month = MONTHS[monthName.toLowerCase()];
  if (month === undefined) return null;
  let year = Number(yearText);
  // Two-digit years as RFC 5322 section 4.3 and Python's email.utils read them.
  if (yearText.length === 2) year += year < 50 ? 2000 : 1900;
  else if (yearText.length === 3) year += 1900;
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  let offset = 0;
  if (zone !== undefined) {
    if (zone[0] === '+' || zone[0] === '-') {
      const sign = zone[0] === '-' ? -1 : 1;
      offset = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
    } else {
      const named = ZONES[zone.toLowerCase()];
      // An unknown zone name is read as UTC, as Python's email.utils does.
      offset = named ?? 0;
    }
  }
  const ms = Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - offset * 60_000;
  const date = new Date(ms);
  // Reject 31 Feb and the like instead of rolling over into the next month.
  if (new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return null;
  return date;
}

/**
 * Parses an HTTP date in any of the three forms RFC 9110 section 5.6.7 says a
 * recipient must accept (IMF-fixdate, RFC 850, asctime), with RFC 5322 zones.
 * A date without a zone is UTC (as Tornado treats `If-Modified-Since`).
 * Returns `null`, never throws, for anything else.
 */
export function parseHttpDate(text: string): Date | null {
  const s = text.trim();
  let m = RFC_DATE_RE.exec(s);
  if (m !== null) {
    return build(Number(m[1]), m[2]!, m[3]!, Number(m[4]), Number(m[5]), Number(m[6] ?? '0'), m[7]);
  }
  m = ASCTIME_RE.exec(s);
  if (m !== null) {
    return build(Number(m[2]), m[1]!, m[6]!, Number(m[3]), Number(m[4]), Number(m[5]), undefined);
  }
  return null;
}
