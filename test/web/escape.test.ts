import { describe, expect, it } from 'vitest';
import {
  jsonDecode,
  jsonEncode,
  linkify,
  type LinkifyOptions,
  squeeze,
  toUnicode,
  urlEscape,
  urlUnescape,
  urlUnescapeBytes,
  utf8,
  xhtmlEscape,
  xhtmlUnescape,
} from '../../src/web/escape.js';
import { isVesperError } from '../../src/shared/errors/index.js';

// Ported from Tornado's escape_test.py: (input, options, expected output).
const LINKIFY_TESTS: [string, LinkifyOptions, string][] = [
  ['hello http://world.com/!', {}, 'hello <a href="http://world.com/">http://world.com/</a>!'],
  [
    'hello http://world.com/with?param=true&stuff=yes',
    {},
    'hello <a href="http://world.com/with?param=true&amp;stuff=yes">http://world.com/with?param=true&amp;stuff=yes</a>',
  ],
  // An open parenthesis followed by many characters killed Gruber's regex.
  [
    'http://url.com/w(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    {},
    '<a href="http://url.com/w">http://url.com/w</a>(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  ],
  // As did too many dots at the end.
  [
    'http://url.com/withmany.......................................',
    {},
    '<a href="http://url.com/withmany">http://url.com/withmany</a>.......................................',
  ],
  [
    'http://url.com/withmany((((((((((((((((((((((((((((((((((a)',
    {},
    '<a href="http://url.com/withmany">http://url.com/withmany</a>((((((((((((((((((((((((((((((((((a)',
  ],
  [
    'http://foo.com/blah_blah',
    {},
    '<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>',
  ],
  [
    'http://foo.com/blah_blah/',
    {},
    '<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>',
  ],
  [
    '(Something like http://foo.com/blah_blah)',
    {},
    '(Something like <a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>)',
  ],
  [
    'http://foo.com/blah_blah_(wikipedia)',
    {},
    '<a href="http://foo.com/blah_blah_(wikipedia)">http://foo.com/blah_blah_(wikipedia)</a>',
  ],
  [
    'http://foo.com/blah_(blah)_(wikipedia)_blah',
    {},
    '<a href="http://foo.com/blah_(blah)_(wikipedia)_blah">http://foo.com/blah_(blah)_(wikipedia)_blah</a>',
  ],
  [
    '(Something like http://foo.com/blah_blah_(wikipedia))',
    {},
    '(Something like <a href="http://foo.com/blah_blah_(wikipedia)">http://foo.com/blah_blah_(wikipedia)</a>)',
  ],
  [
    'http://foo.com/blah_blah.',
    {},
    '<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>.',
  ],
  [
    'http://foo.com/blah_blah/.',
    {},
    '<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>.',
  ],
  [
    '<http://foo.com/blah_blah>',
    {},
    '&lt;<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>&gt;',
  ],
  [
    '<http://foo.com/blah_blah/>',
    {},
    '&lt;<a href="http://foo.com/blah_blah/">http://foo.com/blah_blah/</a>&gt;',
  ],
  [
    'http://foo.com/blah_blah,',
    {},
    '<a href="http://foo.com/blah_blah">http://foo.com/blah_blah</a>,',
  ],
  [
    'http://www.example.com/wpstyle/?p=364.',
    {},
    '<a href="http://www.example.com/wpstyle/?p=364">http://www.example.com/wpstyle/?p=364</a>.',
  ],
  [
    'rdar://1234',
    { permittedProtocols: ['http', 'rdar'] },
    '<a href="rdar://1234">rdar://1234</a>',
  ],
  ['rdar:/1234', { permittedProtocols: ['rdar'] }, '<a href="rdar:/1234">rdar:/1234</a>'],
  [
    'http://userid:password@example.com:8080',
    {},
    '<a href="http://userid:password@example.com:8080">http://userid:password@example.com:8080</a>',
  ],
  [
    'http://userid@example.com',
    {},
    '<a href="http://userid@example.com">http://userid@example.com</a>',
  ],
  [
    'http://userid@example.com:8080',
    {},
    '<a href="http://userid@example.com:8080">http://userid@example.com:8080</a>',
  ],
  [
    'http://userid:password@example.com',
    {},
    '<a href="http://userid:password@example.com">http://userid:password@example.com</a>',
  ],
  [
    'message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e',
    { permittedProtocols: ['http', 'message'] },
    '<a href="message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e">' +
      'message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e</a>',
  ],
  ['http://\u27a1.ws/\u4a39', {}, '<a href="http://\u27a1.ws/\u4a39">http://\u27a1.ws/\u4a39</a>'],
  [
    '<tag>http://example.com</tag>',
    {},
    '&lt;tag&gt;<a href="http://example.com">http://example.com</a>&lt;/tag&gt;',
  ],
  [
    'Just a www.example.com link.',
    {},
    'Just a <a href="http://www.example.com">www.example.com</a> link.',
  ],
  ['Just a www.example.com link.', { requireProtocol: true }, 'Just a www.example.com link.'],
  [
    'A http://reallylong.com/link/that/exceedsthelenglimit.html',
    { requireProtocol: true, shorten: true },
    'A <a href="http://reallylong.com/link/that/exceedsthelenglimit.html"' +
      ' title="http://reallylong.com/link/that/exceedsthelenglimit.html">http://reallylong.com/link...</a>',
  ],
  [
    'A http://reallylongdomainnamethatwillbetoolong.com/hi!',
    { shorten: true },
    'A <a href="http://reallylongdomainnamethatwillbetoolong.com/hi"' +
      ' title="http://reallylongdomainnamethatwillbetoolong.com/hi">http://reallylongdomainnametha...</a>!',
  ],
  [
    'A file:///passwords.txt and http://web.com link',
    {},
    'A file:///passwords.txt and <a href="http://web.com">http://web.com</a> link',
  ],
  [
    'A file:///passwords.txt and http://web.com link',
    { permittedProtocols: ['file'] },
    'A <a href="file:///passwords.txt">file:///passwords.txt</a> and http://web.com link',
  ],
  [
    'www.external-link.com',
    { extraParams: 'rel="nofollow" class="external"' },
    '<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a>',
  ],
  [
    'www.external-link.com and www.internal-link.com/blogs extra',
    {
      extraParams: (href) =>
        href.startsWith('http://www.internal-link.com')
          ? 'class="internal"'
          : 'rel="nofollow" class="external"',
    },
    '<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a>' +
      ' and <a href="http://www.internal-link.com/blogs" class="internal">www.internal-link.com/blogs</a> extra',
  ],
  [
    'www.external-link.com',
    { extraParams: () => '    rel="nofollow" class="external"  ' },
    '<a href="http://www.external-link.com" rel="nofollow" class="external">www.external-link.com</a>',
  ],
  // Not in Tornado's table: a javascript: URL is not linked by default.
  ['javascript://alert(1)', {}, 'javascript://alert(1)'],
];

describe('linkify', () => {
  for (const [input, options, expected] of LINKIFY_TESTS) {
    it(`links ${JSON.stringify(input)} with ${JSON.stringify(options)} as Tornado does`, () => {
      expect(linkify(input, options)).toBe(expected);
    });
  }

  it('finishes quickly on inputs that make naive URL patterns backtrack', () => {
    const start = performance.now();
    linkify(`http://x.com/${'('.repeat(5000)}`);
    linkify(`http://x.com/a${'.'.repeat(5000)}`);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe('xhtmlEscape and xhtmlUnescape', () => {
  const table: [string, string][] = [
    ['<foo>', '&lt;foo&gt;'],
    ['<>&"\'', '&lt;&gt;&amp;&quot;&#39;'],
    ['&amp;', '&amp;amp;'],
    ['<\u00e9>', '&lt;\u00e9&gt;'],
  ];
  for (const [plain, escaped] of table) {
    it(`escapes ${JSON.stringify(plain)} and unescapes it back`, () => {
      expect(xhtmlEscape(plain)).toBe(escaped);
      expect(xhtmlUnescape(escaped)).toBe(plain);
    });
  }

  it('escapes specials at the edges, in runs and between other text', () => {
    expect(xhtmlEscape('&')).toBe('&amp;');
    expect(xhtmlEscape('a&&b')).toBe('a&amp;&amp;b');
    expect(xhtmlEscape('\'x"')).toBe('&#39;x&quot;');
    expect(xhtmlEscape('plain text')).toBe('plain text');
    expect(xhtmlEscape('x<y>z')).toBe('x&lt;y&gt;z');
  });

  it('decodes UTF-8 bytes before escaping them', () => {
    expect(xhtmlEscape(Buffer.from('<\u00e9>', 'utf8'))).toBe('&lt;\u00e9&gt;');
    expect(xhtmlUnescape(Buffer.from('&lt;\u00e9&gt;', 'utf8'))).toBe('<\u00e9>');
  });

  it('renders null and undefined as the empty string and numbers as their digits', () => {
    expect(xhtmlEscape(null)).toBe('');
    expect(xhtmlEscape(undefined)).toBe('');
    expect(xhtmlEscape(42)).toBe('42');
  });

  const numeric: [string, string][] = [
    ['foo&#32;bar', 'foo bar'],
    ['foo&#x20;bar', 'foo bar'],
    ['foo&#X20;bar', 'foo bar'],
    ['foo&#xabc;bar', 'foo\u0abcbar'],
    ['foo&#xyz;bar', 'foo&#xyz;bar'],
    ['foo&#;bar', 'foo&#;bar'],
    ['foo&#x;bar', 'foo&#x;bar'],
    ['foo&#x110000;bar', 'foo&#x110000;bar'],
    ['&eacute;&nbsp;&euro;&nosuch;', '\u00e9\u00a0\u20ac&nosuch;'],
  ];
  for (const [escaped, plain] of numeric) {
    it(`unescapes ${JSON.stringify(escaped)} to ${JSON.stringify(plain)}`, () => {
      expect(xhtmlUnescape(escaped)).toBe(plain);
    });
  }
});

describe('urlEscape and urlUnescape', () => {
  it('passes bytes through as they are and encodes text as UTF-8', () => {
    expect(urlEscape(Buffer.from('\u00e9', 'utf8'))).toBe('%C3%A9');
    expect(urlEscape(Buffer.from('\u00e9', 'latin1'))).toBe('%E9');
    expect(urlEscape('\u00e9')).toBe('%C3%A9');
  });

  it('decodes text and bytes alike, to text or to bytes', () => {
    expect(urlUnescape('%C3%A9')).toBe('\u00e9');
    expect(urlUnescape(Buffer.from('%C3%A9'))).toBe('\u00e9');
    expect(urlUnescapeBytes('%C3%A9')).toEqual(Buffer.from([0xc3, 0xa9]));
    expect(urlUnescapeBytes('%E9')).toEqual(Buffer.from([0xe9]));
  });

  it('uses + for spaces only with plus, as quote_plus and quote do', () => {
    const plain = '+ #%';
    const plusEscaped = '%2B+%23%25';
    const escaped = '%2B%20%23%25';
    expect(urlEscape(plain)).toBe(plusEscaped);
    expect(urlEscape(plain, false)).toBe(escaped);
    expect(urlUnescape(plusEscaped)).toBe(plain);
    expect(urlUnescape(escaped, false)).toBe(plain);
    expect(urlUnescapeBytes(plusEscaped)).toEqual(Buffer.from(plain));
    expect(urlUnescapeBytes(escaped, false)).toEqual(Buffer.from(plain));
  });

  it('keeps a slash only without plus and never escapes letters, digits and _.-~', () => {
    expect(urlEscape('a/b c')).toBe('a%2Fb+c');
    expect(urlEscape('a/b c', false)).toBe('a/b%20c');
    expect(urlEscape("AZaz09_.-~!'()*")).toBe('AZaz09_.-~%21%27%28%29%2A');
  });

  it('keeps a plus sign when plus is off and leaves malformed escapes alone', () => {
    expect(urlUnescape('a+b', false)).toBe('a+b');
    expect(urlUnescape('100%', false)).toBe('100%');
    expect(urlUnescape('%zz%4', false)).toBe('%zz%4');
    expect(urlUnescape('%ff')).toBe('\ufffd');
  });
});

describe('jsonEncode and jsonDecode', () => {
  it('round-trips non-ASCII text', () => {
    expect(jsonDecode(jsonEncode('\u00e9'))).toBe('\u00e9');
  });

  it('escapes </ so the output cannot close a script element', () => {
    expect(jsonEncode({ a: '</script><script>' })).toBe('{"a":"<\\/script><script>"}');
    expect(jsonDecode(jsonEncode('</script>'))).toBe('</script>');
  });

  it('encodes undefined as null', () => {
    expect(jsonEncode(undefined)).toBe('null');
  });

  it('decodes text and UTF-8 bytes', () => {
    expect(jsonDecode(Buffer.from('"foo"'))).toBe('foo');
    expect(jsonDecode('"foo"')).toBe('foo');
    expect(jsonDecode(Buffer.from('"\u00e9"', 'utf8'))).toBe('\u00e9');
  });

  it('throws a SyntaxError for malformed JSON', () => {
    expect(() => jsonDecode('{')).toThrow(SyntaxError);
  });
});

describe('squeeze, utf8 and toUnicode', () => {
  it('squeezes runs of whitespace to one space', () => {
    expect(squeeze('sequences     of    whitespace   chars')).toBe('sequences of whitespace chars');
    expect(squeeze(' \t\na\x00\x01b \r\n')).toBe('a b');
  });

  it('converts between text and UTF-8 bytes', () => {
    expect(utf8('\u00e9')).toEqual(Buffer.from([0xc3, 0xa9]));
    const b = Buffer.from('x');
    expect(utf8(b)).toBe(b);
    expect(utf8(new Uint8Array([0x41]))).toEqual(Buffer.from('A'));
    expect(toUnicode(Buffer.from([0xc3, 0xa9]))).toBe('\u00e9');
    expect(toUnicode('x')).toBe('x');
  });

  it('refuses values that are neither text nor bytes with a stable code', () => {
    expect(() => utf8(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'VESPER_WEB_ESCAPE_TYPE' }),
    );
    let caught: unknown;
    try {
      toUnicode({} as unknown as string);
    } catch (err) {
      caught = err;
    }
    expect(isVesperError(caught, 'VESPER_WEB_ESCAPE_TYPE')).toBe(true);
  });
});
