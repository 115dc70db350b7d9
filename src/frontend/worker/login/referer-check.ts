/**
 * @module The login form's referer check (Prayer's `referer_log_invalid` / `referer_block_invalid`): a form posted from another origin is suspicious.
 */

/**
 * True when the request's `Origin` (preferred) or `Referer` names this site
 * (`scheme://host` with the request's own Host), or when neither is sent
 * (privacy settings strip them; the XSRF token still protects the form).
 */
export function refererIsValid(
  origin: string | undefined,
  referer: string | undefined,
  host: string | null,
  tls: boolean,
): boolean {
  const claimed = origin !== undefined && origin !== 'null' ? origin : referer;
  if (claimed === undefined) return true;
  if (host === null) return false;
  let url: URL;
  try {
    url = new URL(claimed);
  } catch {
    return false;
  }
  const expected = new URL(`${tls ? 'https' : 'http'}://${host}`);
  return url.protocol === expected.protocol && url.host === expected.host;
}
