/**
 * @module The private memory of a process, as DESIGN.md section 7 counts it:
 * Private_Clean + Private_Dirty of `/proc/PID/smaps_rollup` (Linux).
 */
import { readFileSync } from 'node:fs';

/** Private_Clean + Private_Dirty of `pid`, in MiB; null when it cannot be read (the process is gone). */
export function privateMiB(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  let kib = 0;
  for (const m of text.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB$/gm)) kib += Number(m[1]);
  return kib / 1024;
}
