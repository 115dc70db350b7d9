import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/session/process/clock.js';
import { SerialQueue, type QueueSlot } from '../../../src/session/process/serial-queue.js';

describe('SerialQueue', () => {
  it('runs tasks one at a time in arrival order, each when the previous releases', () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const slots: QueueSlot[] = [];
    for (const name of ['a', 'b', 'c']) {
      q.enqueue((slot) => {
        log.push(name);
        slots.push(slot);
      });
    }
    expect(log).toEqual(['a']);
    expect(q.busy).toBe(true);
    expect(q.waiting).toBe(2);
    slots[0]!.release();
    slots[0]!.release();
    expect(log).toEqual(['a', 'b']);
    slots[1]!.release();
    slots[2]!.release();
    expect(log).toEqual(['a', 'b', 'c']);
    expect(q.busy).toBe(false);
  });

  it('drops a waiting task whose slot is released before its turn', () => {
    const q = new SerialQueue();
    const log: string[] = [];
    let first: QueueSlot | undefined;
    q.enqueue((s) => {
      first = s;
    });
    const gone = q.enqueue(() => log.push('gone'));
    q.enqueue((s) => {
      log.push('last');
      s.release();
    });
    gone.release();
    expect(gone.started).toBe(false);
    first!.release();
    expect(log).toEqual(['last']);
  });

  it('hands on when a task throws', () => {
    const q = new SerialQueue();
    const log: string[] = [];
    q.enqueue(() => {
      throw new Error('boom');
    });
    q.enqueue((s) => {
      log.push('next');
      s.release();
    });
    expect(log).toEqual(['next']);
  });

  it('resolves idle() once nothing runs or waits', async () => {
    const q = new SerialQueue();
    await q.idle();
    let slot: QueueSlot | undefined;
    q.enqueue((s) => {
      slot = s;
    });
    let idle = false;
    const p = q.idle().then(() => {
      idle = true;
    });
    await Promise.resolve();
    expect(idle).toBe(false);
    slot!.release();
    await p;
    expect(idle).toBe(true);
  });
});

describe('ManualClock', () => {
  it('fires due timers in deadline order and none early', () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push(`b@${clock.now()}`));
    const cancelled = clock.setTimer(100, () => fired.push('cancelled'));
    clock.setTimer(200, () => {
      fired.push(`a@${clock.now()}`);
      clock.setTimer(50, () => fired.push(`c@${clock.now()}`));
    });
    clock.clearTimer(cancelled);
    clock.advance(199);
    expect(fired).toEqual([]);
    clock.advance(200);
    expect(fired).toEqual(['a@1200', 'c@1250', 'b@1300']);
    expect(clock.now()).toBe(1_399);
    expect(clock.pending).toBe(0);
  });
});
