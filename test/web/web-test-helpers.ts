/**
 * @module Helpers shared by the tests of the web core: a logger that records
 * its lines, and a raw HTTP client that shows headers and bytes as sent.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/shared/log/index.js';

/** A logger whose JSON lines are kept in `lines`. */
export function captureLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) {
        if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      cb();
    },
  });
  return { log: createLogger({ name: 'test', level: 'debug', stream }), lines };
}

/** A response as Node's client received it (no decompression). */
export interface RawResponse {
  status: number;
  reason: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/** Sends one request with Node's client and returns the undecoded response. */
export function httpFetch(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            reason: res.statusMessage ?? '',
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Tornado's default error page. */
export function errorPage(code: number, reason: string): string {
  return `<html><title>${code}: ${reason}</title><body>${code}: ${reason}</body></html>`;
}
