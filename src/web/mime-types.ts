/**
 * @module guessMimeType: a file's media type and content coding from its name,
 * from a small built-in table (Python's `mimetypes.guess_type` for the files a
 * web application serves).
 */

/** Media types by lower-case extension. */
const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html',
  htm: 'text/html',
  shtml: 'text/html',
  xhtml: 'application/xhtml+xml',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
  json: 'application/json',
  map: 'application/json',
  webmanifest: 'application/manifest+json',
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  ics: 'text/calendar',
  vcf: 'text/vcard',
  xml: 'text/xml',
  xsl: 'application/xml',
  rss: 'application/rss+xml',
  atom: 'application/atom+xml',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  jpe: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  bmp: 'image/bmp',
  ico: 'image/vnd.microsoft.icon',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  eot: 'application/vnd.ms-fontobject',
  pdf: 'application/pdf',
  zip: 'application/zip',
  tar: 'application/x-tar',
  wasm: 'application/wasm',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  wav: 'audio/x-wav',
  weba: 'audio/webm',
  mp4: 'video/mp4',
  m4a: 'audio/mp4',
  webm: 'video/webm',
  ogv: 'video/ogg',
  mpeg: 'video/mpeg',
  mpg: 'video/mpeg',
  mov: 'video/quicktime',
  eml: 'message/rfc822',
};

/** Content codings by extension, as `mimetypes.encodings_map`. */
const ENCODINGS: Readonly<Record<string, string>> = {
  gz: 'gzip',
  z: 'compress',
  bz2: 'bzip2',
  xz: 'xz',
  br: 'br',
};

/** Extensions that stand for two, as `mimetypes.suffix_map`. */
const SUFFIXES: Readonly<Record<string, string>> = {
  tgz: 'tar.gz',
  taz: 'tar.gz',
  tz: 'tar.gz',
  tbz2: 'tar.bz2',
  txz: 'tar.xz',
};

/** `table[key]` for own keys only (an extension such as `constructor` is not a type). */
function own(table: Readonly<Record<string, string>>, key: string | undefined): string | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

function extensionOf(name: string): string | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? undefined : base.slice(dot + 1).toLowerCase();
}

/**
 * Guesses `[mediaType, encoding]` for a file name, either `undefined` when
 * unknown: `a.css` → `['text/css', undefined]`, `a.xml.gz` →
 * `['text/xml', 'gzip']`, `a.bin` → `[undefined, undefined]`. Never throws.
 */
export function guessMimeType(name: string): [string | undefined, string | undefined] {
  let rest = name;
  let ext = extensionOf(rest);
  const expanded = own(SUFFIXES, ext);
  if (ext !== undefined && expanded !== undefined) {
    rest = rest.slice(0, rest.length - ext.length) + expanded;
    ext = extensionOf(rest);
  }
  const encoding = own(ENCODINGS, ext);
  if (ext !== undefined && encoding !== undefined) {
    rest = rest.slice(0, rest.length - ext.length - 1);
    ext = extensionOf(rest);
  }
  return [own(TYPES, ext), encoding];
}
