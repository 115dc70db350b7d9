/**
 * @module The syntax of a forwarding address: `local@domain` with a dot-atom
 * local part (RFC 5322 section 3.4.1, no quoted forms) and a host-name domain.
 */

const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LOCAL = new RegExp(`^${ATOM}(\\.${ATOM})*$`);
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** True when `address` is an acceptable forwarding address. */
export function isValidMailAddress(address: string): boolean {
  if (address.length > 254) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64 || !LOCAL.test(local)) return false;
  if (domain.length === 0 || domain.length > 253) return false;
  return domain.split('.').every((label) => LABEL.test(label));
}
