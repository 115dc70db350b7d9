import { describe, expect, it } from 'vitest';
import { ProcessTable } from '../../../src/frontend/master/process-table.js';

const load = {
  type: 'load',
  inflight: 1,
  connections: 2,
  requests: 3,
  servedConnections: 4,
} as const;

describe('ProcessTable', () => {
  it('gives each new worker the lowest free slot and starts it in the starting state', () => {
    const table = new ProcessTable();
    const a = table.add({ id: 1, pid: 101, generation: 1, startedAt: 10 });
    const b = table.add({ id: 2, pid: 102, generation: 1, startedAt: 11 });
    expect([a.slot, b.slot]).toEqual([0, 1]);
    expect(a).toMatchObject({
      state: 'starting',
      respawn: true,
      exiting: false,
      restarts: 0,
      load: null,
      loadAt: null,
    });
    table.remove(1, false);
    expect(table.add({ id: 3, pid: 103, generation: 2, startedAt: 12 }).slot).toBe(0);
    expect(table.size).toBe(2);
  });

  it('counts crashes per slot so the next occupant shows its restarts', () => {
    const table = new ProcessTable();
    table.add({ id: 1, pid: 101, generation: 1, startedAt: 0 });
    table.remove(1, true);
    const second = table.add({ id: 2, pid: 102, generation: 1, startedAt: 0 });
    expect(second.restarts).toBe(1);
    table.remove(2, true);
    expect(table.add({ id: 3, pid: 103, generation: 1, startedAt: 0 }).restarts).toBe(2);
    table.remove(3, false);
    expect(table.add({ id: 4, pid: 104, generation: 1, startedAt: 0 }).restarts).toBe(2);
  });

  it('records load reports and ignores those of unknown workers', () => {
    const table = new ProcessTable();
    table.add({ id: 1, pid: 101, generation: 1, startedAt: 0 });
    table.recordLoad(1, load, 500);
    table.recordLoad(99, load, 500);
    expect(table.get(1)?.load).toEqual(load);
    expect(table.get(1)?.loadAt).toBe(500);
    expect(table.get(99)).toBeUndefined();
  });

  it('lists rows in slot order and by generation', () => {
    const table = new ProcessTable();
    table.add({ id: 5, pid: 105, generation: 1, startedAt: 0 });
    table.add({ id: 6, pid: 106, generation: 2, startedAt: 0 });
    table.add({ id: 7, pid: 107, generation: 2, startedAt: 0 });
    table.remove(5, false);
    table.add({ id: 8, pid: 108, generation: 2, startedAt: 0 });
    expect(table.rows().map((r) => [r.slot, r.id])).toEqual([
      [0, 8],
      [1, 6],
      [2, 7],
    ]);
    expect(table.ofGeneration(1)).toEqual([]);
    expect(table.ofGeneration(2).map((r) => r.pid)).toEqual([108, 106, 107]);
  });

  it('refuses the same worker twice and returns undefined when removing an unknown one', () => {
    const table = new ProcessTable();
    table.add({ id: 1, pid: 101, generation: 1, startedAt: 0 });
    expect(() => table.add({ id: 1, pid: 101, generation: 1, startedAt: 0 })).toThrow(
      'worker 1 is already in the process table',
    );
    expect(table.remove(2, true)).toBeUndefined();
  });
});
