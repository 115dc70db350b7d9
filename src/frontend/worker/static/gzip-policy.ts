/**
 * @module Which clients get compressed answers (`frontend.gzip_allow_nets` / `gzip_deny_nets`), and whether a request accepts gzip.
 */
import { BlockList, isIPv4 } from 'node:net';
import { VesperError } from '../../../shared/errors/index.js';

function blockList(nets: readonly string[]): BlockList {
  const list = new BlockList();
  for (const net of nets) {
    const slash = net.lastIndexOf('/');
    const address = slash < 0 ? net : net.slice(0, slash);
    const type = isIPv4(address) ? 'ipv4' : 'ipv6';
    const prefix = slash < 0 ? (type === 'ipv4' ? 32 : 128) : Number(net.slice(slash + 1));
    try {
      list.addSubnet(address, prefix, type);
    } catch (err) {
      throw new VesperError('VESPER_FRONTEND_BAD_NET', `${net} is not a CIDR block.`, {
        cause: err,
      });
    }
  }
  return list;
}

/** The compression policy of one worker. */
export class GzipPolicy {
  readonly #allow: BlockList;
  readonly #deny: BlockList;

  /** @throws VesperError `VESPER_FRONTEND_BAD_NET` for a malformed CIDR block. */
  constructor(allow: readonly string[], deny: readonly string[]) {
    this.#allow = blockList(allow);
    this.#deny = blockList(deny);
  }

  /** True when `clientIp` is in an allowed net and in no denied one. */
  allows(clientIp: string): boolean {
    const type = isIPv4(clientIp) ? 'ipv4' : 'ipv6';
    try {
      return this.#allow.check(clientIp, type) && !this.#deny.check(clientIp, type);
    } catch {
      return false;
    }
  }
}

/** True when an `Accept-Encoding` value accepts gzip (not with `q=0`). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false;
  for (const item of acceptEncoding.split(',')) {
    const [coding, ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}
