import { describe, expect, it } from 'vitest';
import {
  CLOSE_GOING_AWAY,
  FrameBoundary,
} from '../../../src/frontend/worker/proxy/frame-boundary.js';

/** A frame header + payload, masked or not, with a 7-bit, 16-bit or 64-bit length. */
function frame(payload: number, masked = false): Buffer {
  const len =
    payload < 126
      ? [payload]
      : payload < 65536
        ? [126, payload >> 8, payload & 0xff]
        : [127, 0, 0, 0, 0, 0, (payload >> 16) & 0xff, (payload >> 8) & 0xff, payload & 0xff];
  len[0]! |= masked ? 0x80 : 0;
  return Buffer.concat([
    Buffer.from([0x82, ...len]),
    masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0),
    Buffer.alloc(payload, 7),
  ]);
}

describe('FrameBoundary', () => {
  const frames = [frame(0), frame(5), frame(125, true), frame(300), frame(70_000, true), frame(1)];
  const stream = Buffer.concat(frames);
  const boundaries = new Set<number>();
  let at = 0;
  for (const f of frames) boundaries.add((at += f.length));

  it('knows it is between frames exactly at frame ends, at every split', () => {
    for (let cut = 0; cut <= stream.length; cut += cut < 200 ? 1 : 997) {
      const tracker = new FrameBoundary();
      tracker.skip(stream.subarray(0, cut));
      expect(tracker.atBoundary).toBe(cut === 0 || boundaries.has(cut));
    }
  });

  it('finds the next boundary from inside a frame, across chunks', () => {
    const tracker = new FrameBoundary();
    const start = frames[0]!.length + frames[1]!.length + 3;
    tracker.skip(stream.subarray(0, start));
    expect(tracker.atBoundary).toBe(false);
    const rest = stream.subarray(start);
    const next = frames[0]!.length + frames[1]!.length + frames[2]!.length;
    expect(tracker.nextBoundary(rest.subarray(0, 10), 0)).toBe(-1);
    expect(tracker.nextBoundary(rest, 10)).toBe(next - start);
    expect(tracker.atBoundary).toBe(true);
  });

  it('writes close code 1001 in a server close frame', () => {
    expect([...CLOSE_GOING_AWAY]).toEqual([0x88, 0x02, 0x03, 0xe9]);
  });
});
