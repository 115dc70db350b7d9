/**
 * @module OpenID Provider metadata (OpenID Connect Discovery 1.0): where the
 * discovery document lives and the strict check of what it says.
 */
import { AuthError } from './auth-error.js';

/** The parts of an OpenID Provider's metadata that Vesper uses, validated. */
export interface OpenIdProviderMetadata {
  /** Exactly the configured issuer (Discovery section 4.3). */
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  /** Absent when the provider has no userinfo endpoint. */
  readonly userinfoEndpoint: string | undefined;
  /** `id_token_signing_alg_values_supported`, without `none`. */
  readonly idTokenSigningAlgValuesSupported: readonly string[];
  /** `token_endpoint_auth_methods_supported`; the spec's default when absent. */
  readonly tokenEndpointAuthMethodsSupported: readonly string[];
  /** `code_challenge_methods_supported` (RFC 8414); empty when not advertised. */
  readonly codeChallengeMethodsSupported: readonly string[];
  /** The whole document as received, for provider-specific fields. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Options of {@link parseProviderMetadata}. */
export interface ParseProviderMetadataOptions {
  /**
   * Accept `http:` endpoints on any host. By default they are accepted only on
   * loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`), for tests and
   * development; everything else must be `https:`.
   */
  allowInsecureHttp?: boolean;
}

/**
 * The discovery document's URL for `issuer`: the issuer, without a terminating
 * `/`, followed by `/.well-known/openid-configuration` (Discovery section 4).
 *
 * @throws AuthError `VESPER_WEB_AUTH_CONFIG` when the issuer is not an absolute
 *   http(s) URL without query or fragment.
 */
export function discoveryUrl(issuer: string): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch (err) {
    throw new AuthError('VESPER_WEB_AUTH_CONFIG', `The OpenID issuer "${issuer}" is not a URL.`, {
      cause: err,
    });
  }
  if (
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    throw new AuthError(
      'VESPER_WEB_AUTH_CONFIG',
      `The OpenID issuer "${issuer}" must be an http(s) URL without query or fragment.`,
    );
  }
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/** True for `localhost`, `127.x.y.z` and `[::1]`. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

function invalid(message: string): AuthError {
  return new AuthError('VESPER_WEB_AUTH_DISCOVERY_INVALID', message);
}

function endpoint(
  doc: Record<string, unknown>,
  field: string,
  options: ParseProviderMetadataOptions,
  required: boolean,
): string | undefined {
  const value = doc[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw invalid(`The OpenID discovery document has no ${field}.`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`The OpenID discovery document's ${field} is not a URL.`);
  }
  const secure =
    url.protocol === 'https:' ||
    (url.protocol === 'http:' &&
      (options.allowInsecureHttp === true || isLoopbackHost(url.hostname)));
  if (!secure || url.hash !== '') {
    throw invalid(
      `The OpenID discovery document's ${field} must be an https URL without fragment.`,
    );
  }
  return value;
}

function stringList(doc: Record<string, unknown>, field: string, fallback: string[]): string[] {
  const value = doc[field];
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw invalid(`The OpenID discovery document's ${field} is not a list of strings.`);
  }
  return value;
}

/**
 * Validates a parsed discovery document against the issuer it was fetched for
 * and returns the metadata Vesper uses.
 *
 * Checks: the document is a JSON object; `issuer` equals `expectedIssuer`
 * exactly (Discovery section 4.3: this is what stops one provider from
 * impersonating another); `authorization_endpoint`, `token_endpoint` and
 * `jwks_uri` are present, as is `userinfo_endpoint` if present at all, each an
 * `https:` URL (or `http:` on loopback, see
 * {@link ParseProviderMetadataOptions.allowInsecureHttp}); `response_types_supported`,
 * when given, includes `code`; the list fields are lists of strings.
 *
 * @throws AuthError `VESPER_WEB_AUTH_DISCOVERY_INVALID` naming the first failed check.
 */
export function parseProviderMetadata(
  document: unknown,
  expectedIssuer: string,
  options: ParseProviderMetadataOptions = {},
): OpenIdProviderMetadata {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw invalid('The OpenID discovery document is not a JSON object.');
  }
  const doc = document as Record<string, unknown>;
  if (doc.issuer !== expectedIssuer) {
    throw invalid(
      `The OpenID discovery document names the issuer ${JSON.stringify(doc.issuer)}, not the configured "${expectedIssuer}".`,
    );
  }
  const responseTypes = stringList(doc, 'response_types_supported', ['code']);
  if (!responseTypes.includes('code')) {
    throw invalid(
      'The OpenID provider does not support the authorization code flow (response type "code").',
    );
  }
  return {
    issuer: expectedIssuer,
    authorizationEndpoint: endpoint(doc, 'authorization_endpoint', options, true) as string,
    tokenEndpoint: endpoint(doc, 'token_endpoint', options, true) as string,
    jwksUri: endpoint(doc, 'jwks_uri', options, true) as string,
    userinfoEndpoint: endpoint(doc, 'userinfo_endpoint', options, false),
    idTokenSigningAlgValuesSupported: stringList(doc, 'id_token_signing_alg_values_supported', [
      'RS256',
    ]).filter((alg) => alg !== 'none'),
    tokenEndpointAuthMethodsSupported: stringList(doc, 'token_endpoint_auth_methods_supported', [
      'client_secret_basic',
    ]),
    codeChallengeMethodsSupported: stringList(doc, 'code_challenge_methods_supported', []),
    raw: doc,
  };
}
