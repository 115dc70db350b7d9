/**
 * @module XSRF protection of the login form: a signed `_xsrf` cookie holding a raw token, and a masked copy of it in the form.
 */
import {
  createSignedValue,
  decodeSignedValue,
  decodeXsrfToken,
  encodeXsrfToken,
  newXsrfTokenBytes,
  parseCookie,
  xsrfTokensEqual,
} from '../../../web/index.js';

/** The XSRF cookie's name. */
export const XSRF_COOKIE = '_xsrf';

/** What a login page needs: the token for the form, and the cookie to set when there was none. */
export interface XsrfIssue {
  /** The masked token for the hidden `_xsrf` field (fresh mask each time). */
  readonly formToken: string;
  /** The signed cookie value to set, or null when the client's cookie is kept. */
  readonly cookie: string | null;
}

/**
 * Issues and checks login-form XSRF tokens. The cookie is signed with the
 * frontend secret (so a cookie injected by a sibling domain is refused), the
 * form carries the token masked (Tornado's version 2, against BREACH).
 */
export class XsrfGuard {
  readonly #secret: Buffer;

  constructor(secret: Buffer) {
    this.#secret = secret;
  }

  #cookieToken(cookieHeader: string | undefined): Buffer | null {
    if (cookieHeader === undefined) return null;
    let value: string | undefined;
    try {
      value = parseCookie(cookieHeader)[XSRF_COOKIE];
    } catch {
      return null;
    }
    const raw = decodeSignedValue(this.#secret, XSRF_COOKIE, value, { maxAgeDays: 1 });
    return raw === null || raw.length !== 16 ? null : raw;
  }

  /** A token for a login page: the cookie's own when it is valid, else a new one (and its cookie). */
  issue(cookieHeader: string | undefined): XsrfIssue {
    const now = Date.now() / 1000;
    const existing = this.#cookieToken(cookieHeader);
    if (existing !== null) return { formToken: encodeXsrfToken(existing, now), cookie: null };
    const token = newXsrfTokenBytes();
    return {
      formToken: encodeXsrfToken(token, now),
      cookie: createSignedValue(this.#secret, XSRF_COOKIE, token),
    };
  }

  /** True when the form's token matches the signed cookie's (constant-time). */
  check(cookieHeader: string | undefined, formToken: string | undefined): boolean {
    const expected = this.#cookieToken(cookieHeader);
    if (expected === null || formToken === undefined) return false;
    const decoded = decodeXsrfToken(formToken);
    return decoded !== null && xsrfTokensEqual(decoded.token, expected);
  }
}
