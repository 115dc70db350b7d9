/**
 * @module permessage-deflate (RFC 7692) options in Tornado's terms, and their
 * translation into the `ws` package's.
 */
import type { PerMessageDeflateOptions } from 'ws';

/**
 * Compression wanted on a connection (Tornado's `compression_options`). An
 * empty object enables permessage-deflate with the defaults; `null` disables it.
 * It is used only when both ends want it.
 */
export interface WebSocketCompressionOptions {
  /** zlib level 0-9 (default 6, as Tornado). */
  compressionLevel?: number;
  /** zlib memory level 1-9 (default 8, as Tornado). */
  memLevel?: number;
  /** Ask that the server not keep its compression context between messages. */
  serverNoContextTakeover?: boolean;
  /** Ask that the client not keep its compression context between messages. */
  clientNoContextTakeover?: boolean;
  /** The server's LZ77 window, 8-15 bits. */
  serverMaxWindowBits?: number;
  /** The client's LZ77 window, 8-15 bits. */
  clientMaxWindowBits?: number;
  /**
   * Messages smaller than this many bytes are sent uncompressed (default 1024,
   * `ws`'s default; Tornado compresses everything, which costs more than it
   * saves on small frames).
   */
  threshold?: number;
}

/** The `ws` option for `options`, or `false` for none. */
export function perMessageDeflate(
  options: WebSocketCompressionOptions | null | undefined,
): PerMessageDeflateOptions | false {
  if (options === null || options === undefined) return false;
  const result: PerMessageDeflateOptions = {
    zlibDeflateOptions: { level: options.compressionLevel ?? 6, memLevel: options.memLevel ?? 8 },
    threshold: options.threshold ?? 1024,
  };
  if (options.serverNoContextTakeover !== undefined) {
    result.serverNoContextTakeover = options.serverNoContextTakeover;
  }
  if (options.clientNoContextTakeover !== undefined) {
    result.clientNoContextTakeover = options.clientNoContextTakeover;
  }
  if (options.serverMaxWindowBits !== undefined) {
    result.serverMaxWindowBits = options.serverMaxWindowBits;
  }
  if (options.clientMaxWindowBits !== undefined) {
    result.clientMaxWindowBits = options.clientMaxWindowBits;
  }
  return result;
}
