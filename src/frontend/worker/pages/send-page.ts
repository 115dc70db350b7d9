/**
 * @module Writes one rendered page with the security headers every worker page carries.
 */
import type { ServerReply } from '../http/server-reply.js';
import { pageHeaders } from './security-headers.js';

/** Sends `html` with `status`, the page security headers (HSTS on TLS) and `extra` fields. */
export function sendPage(
  reply: ServerReply,
  status: number,
  html: string,
  tls: boolean,
  extra: readonly (readonly [string, string])[] = [],
): void {
  reply.send(status, [...pageHeaders(tls), ...extra], html);
}
