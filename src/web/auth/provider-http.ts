/**
 * @module Requests from Vesper to an OAuth2/OpenID provider through the
 * framework's `AsyncHTTPClient`: bounded in time and size, failures turned into
 * `AuthError`s, JSON answers read strictly.
 */
import { AsyncHTTPClient } from '../http-client.js';
import { HTTPClientError } from '../http-client-error.js';
import { AuthError } from './auth-error.js';

/** A request to the provider. */
export interface ProviderRequestInit {
  method: 'GET' | 'POST';
  headers?: Readonly<Record<string, string>>;
  body?: string;
}

/** The provider's answer, whatever its status. */
export interface ProviderResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/** Seconds a provider request may take; a stalled provider must not hold a login forever. */
export const PROVIDER_REQUEST_TIMEOUT = 10;

/** Largest provider answer accepted: discovery documents, key sets and tokens are small. */
export const PROVIDER_MAX_BODY_SIZE = 1024 * 1024;

let sharedClient: AsyncHTTPClient | undefined;

/**
 * The client auth requests use by default: one per process, created on first
 * use, with {@link PROVIDER_MAX_BODY_SIZE}. Its pooled idle sockets do not keep
 * the process alive.
 */
export function defaultAuthHttpClient(): AsyncHTTPClient {
  if (sharedClient === undefined || sharedClient.closed) {
    sharedClient = new AsyncHTTPClient({ maxBodySize: PROVIDER_MAX_BODY_SIZE });
  }
  return sharedClient;
}

/**
 * Sends `init` to `url` and returns the answer whatever its status. Redirects
 * are not followed: a provider's endpoints are the URLs it published, and a
 * POST carrying a code or a secret must not wander.
 *
 * @throws AuthError `VESPER_WEB_AUTH_PROVIDER_UNREACHABLE` when no complete
 *   answer arrived (connection refused, timeout, oversized body); the message
 *   names `what` and never the URL's query (it may carry a token).
 */
export async function providerFetch(
  client: AsyncHTTPClient,
  url: string,
  init: ProviderRequestInit,
  what: string,
): Promise<ProviderResponse> {
  try {
    const response = await client.fetch(url, {
      method: init.method,
      headers: { ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
      followRedirects: false,
      requestTimeout: PROVIDER_REQUEST_TIMEOUT,
      connectTimeout: PROVIDER_REQUEST_TIMEOUT,
      raiseError: false,
    });
    return {
      status: response.code,
      contentType: (response.headers.get('Content-Type') ?? '').toLowerCase(),
      body: response.body,
    };
  } catch (err) {
    const detail = err instanceof HTTPClientError ? ` (${err.code})` : '';
    throw new AuthError(
      'VESPER_WEB_AUTH_PROVIDER_UNREACHABLE',
      `Could not reach ${what}${detail}.`,
      { cause: err },
    );
  }
}

/**
 * The JSON object of a 2xx answer.
 *
 * @throws AuthError `VESPER_WEB_AUTH_PROVIDER_UNREACHABLE` for a 5xx,
 *   `VESPER_WEB_AUTH_PROVIDER_RESPONSE` for another non-2xx status, a signed or
 *   encrypted (`application/jwt`) answer, or a body that is not a JSON object.
 */
export function providerJson(response: ProviderResponse, what: string): Record<string, unknown> {
  if (response.status >= 500) {
    throw new AuthError(
      'VESPER_WEB_AUTH_PROVIDER_UNREACHABLE',
      `${capitalise(what)} failed with HTTP ${response.status}.`,
    );
  }
  if (response.status < 200 || response.status > 299) {
    throw new AuthError(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
      `${capitalise(what)} answered HTTP ${response.status}.`,
    );
  }
  if (response.contentType.startsWith('application/jwt')) {
    throw new AuthError(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
      `${capitalise(what)} answered with a JWT; only plain JSON answers are supported.`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(response.body.toString('utf8'));
  } catch (err) {
    throw new AuthError(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
      `${capitalise(what)} answered with something other than JSON.`,
      {
        cause: err,
      },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthError(
      'VESPER_WEB_AUTH_PROVIDER_RESPONSE',
      `${capitalise(what)} answered with JSON that is not an object.`,
    );
  }
  return value as Record<string, unknown>;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
