import { describe, expect, it } from 'vitest';
import { MessageParser, type ParseEvent } from '../../../src/accountd/protocol/message-parser.js';
import { encodeMessage, percentEncode } from '../../../src/accountd/protocol/token-encoding.js';

const LIMITS = { line: 200, literal: 100 };

function parseAll(input: string | Buffer, limits = LIMITS): ParseEvent[] {
  return new MessageParser(limits).push(Buffer.from(input));
}

function syntax(message: string): ParseEvent {
  return { type: 'error', code: 'SYNTAX', message, fatal: false };
}

/** A transcript exercising every state: tokens, %-escapes, literals mid-line and at the end, errors. */
const TRANSCRIPT = Buffer.concat([
  Buffer.from('LOGIN alice vesper%2Ddemo%2D1\r\n'),
  Buffer.from('MAILCHANGE {40}\r\nkeep-copy: yes\nforward: bob@example.org\n\r\n'),
  Buffer.from('FULLNAME Zo%C3%AB%20Smith\r\n'),
  Buffer.from('X {3}\r\nabc {0}\r\n {2}\r\n\r\n\r\n'),
  Buffer.from('BAD%ZZ token\r\n'),
  Buffer.from('two  spaces\r\n'),
  Buffer.from('\r\n'),
  Buffer.from('bare\nCR\rX\r\n'),
  Buffer.from('NOOP\r\n'),
]);

describe('MessageParser', () => {
  it('splits a line into tokens at single spaces', () => {
    expect(parseAll('LOGIN alice secret1x\r\n')).toEqual([
      { type: 'message', tokens: ['LOGIN', 'alice', 'secret1x'] },
    ]);
  });

  it('decodes %-escapes as UTF-8 bytes, upper or lower case hex', () => {
    expect(parseAll('FULLNAME Zo%c3%ab%20Smith%21\r\n')).toEqual([
      { type: 'message', tokens: ['FULLNAME', 'Zoë Smith!'] },
    ]);
  });

  it('reads a literal and goes on with the line after it', () => {
    expect(parseAll('X {5}\r\nhe\r\no {0}\r\n last\r\n')).toEqual([
      { type: 'message', tokens: ['X', 'he\r\no', '', 'last'] },
    ]);
  });

  it('reports malformed lines once each and resumes at the next line', () => {
    expect(parseAll('A%2 b\r\nA  b\r\n\r\nA \r\nA{1}\r\nA {x}\r\nOK\r\n')).toEqual([
      syntax('a % not followed by two hex digits'),
      syntax('an empty token'),
      syntax('an empty line'),
      syntax('an empty token'),
      syntax('a brace outside a literal'),
      syntax('a malformed literal'),
      { type: 'message', tokens: ['OK'] },
    ]);
  });

  it('refuses bare LF, a CR without LF, control bytes and raw non-ASCII', () => {
    expect(parseAll('A\nB\rC\r\nD\x00E\r\nF\xffG\r\nok\r\n')).toEqual([
      syntax('a bare LF'),
      syntax('a CR not followed by LF'),
      syntax('a byte 0x00 outside a literal'),
      syntax('a byte 0xc3 outside a literal'),
      { type: 'message', tokens: ['ok'] },
    ]);
  });

  it('refuses a token or a literal that is not valid UTF-8', () => {
    expect(parseAll(Buffer.from('A %FF\r\nB {1}\r\n\xff\r\nC\r\n', 'latin1'))).toEqual([
      syntax('a token that is not valid UTF-8'),
      syntax('a literal that is not valid UTF-8'),
      { type: 'message', tokens: ['C'] },
    ]);
  });

  it('reports a line over the limit and keeps going', () => {
    const events = parseAll(`A ${'x'.repeat(300)}\r\nB\r\n`);
    expect(events).toEqual([
      { type: 'error', code: 'LINE', message: 'a line longer than 200 bytes', fatal: false },
      { type: 'message', tokens: ['B'] },
    ]);
  });

  it('is fatal on a literal over the limit and ignores everything after it', () => {
    const parser = new MessageParser(LIMITS);
    expect(parser.push(Buffer.from('A {101}\r\nNOOP\r\n'))).toEqual([
      { type: 'error', code: 'LITERAL', message: 'a literal larger than 100 bytes', fatal: true },
    ]);
    expect(parser.dead).toBe(true);
    expect(parser.push(Buffer.from('NOOP\r\n'))).toEqual([]);
  });

  it('counts every literal of a message against the literal limit', () => {
    expect(parseAll(`A {60}\r\n${'a'.repeat(60)} {41}\r\n`)[0]).toMatchObject({
      code: 'LITERAL',
      fatal: true,
    });
  });

  it('gives the same events for every split of a transcript at every byte boundary', () => {
    const whole = parseAll(TRANSCRIPT);
    expect(whole).toEqual([
      { type: 'message', tokens: ['LOGIN', 'alice', 'vesper-demo-1'] },
      {
        type: 'message',
        tokens: ['MAILCHANGE', 'keep-copy: yes\nforward: bob@example.org\n'],
      },
      { type: 'message', tokens: ['FULLNAME', 'Zoë Smith'] },
      { type: 'message', tokens: ['X', 'abc', '', '\r\n'] },
      syntax('a % not followed by two hex digits'),
      syntax('an empty token'),
      syntax('an empty line'),
      syntax('a bare LF'),
      syntax('a CR not followed by LF'),
      { type: 'message', tokens: ['NOOP'] },
    ]);
    for (let i = 0; i <= TRANSCRIPT.length; i++) {
      const p = new MessageParser(LIMITS);
      const events = [...p.push(TRANSCRIPT.subarray(0, i)), ...p.push(TRANSCRIPT.subarray(i))];
      expect(events, `split at ${i}`).toEqual(whole);
    }
  });

  it('gives the same events for every split into three pieces and for byte-at-a-time input', () => {
    const whole = parseAll(TRANSCRIPT);
    const n = TRANSCRIPT.length;
    for (let i = 0; i <= n; i += 3) {
      for (let j = i; j <= n; j += 5) {
        const p = new MessageParser(LIMITS);
        const events = [
          ...p.push(TRANSCRIPT.subarray(0, i)),
          ...p.push(TRANSCRIPT.subarray(i, j)),
          ...p.push(TRANSCRIPT.subarray(j)),
        ];
        expect(events).toEqual(whole);
      }
    }
    const p = new MessageParser(LIMITS);
    const bytewise = [...TRANSCRIPT].flatMap((b) => p.push(Buffer.from([b])));
    expect(bytewise).toEqual(whole);
  });

  it('says when it is between messages', () => {
    const p = new MessageParser(LIMITS);
    expect(p.idle).toBe(true);
    p.push(Buffer.from('NOO'));
    expect(p.idle).toBe(false);
    p.push(Buffer.from('P\r\n'));
    expect(p.idle).toBe(true);
  });
});

describe('encodeMessage', () => {
  it('escapes every byte that is not an ASCII letter or digit', () => {
    expect(percentEncode('a-b c/é')).toBe('a%2Db%20c%2F%C3%A9');
    expect(encodeMessage(['LOGIN', 'alice', 'p w{}']).toString()).toBe(
      'LOGIN alice p%20w%7B%7D\r\n',
    );
  });

  it('sends empty, long and chosen tokens as literals', () => {
    expect(encodeMessage(['A', '', 'b'], {}).toString()).toBe('A {0}\r\n b\r\n');
    expect(encodeMessage(['A', 'x y'], { literals: [1] }).toString()).toBe('A {3}\r\nx y\r\n');
    expect(encodeMessage(['A', 'xxxx'], { inlineMax: 3 }).toString()).toBe('A {4}\r\nxxxx\r\n');
  });

  it('round-trips any tokens through the parser', () => {
    const samples = [['NOOP'], ['X', '', '', 'Ω≈ç√', 'a\r\nb', ' lead', '{3}', '%41', '\u0000']];
    for (const tokens of samples) {
      expect(parseAll(encodeMessage(tokens), { line: 1000, literal: 1000 })).toEqual([
        { type: 'message', tokens },
      ]);
    }
  });
});
