/**
 * @module A real OpenID Provider (the `oidc-provider` package) on a loopback
 * port for the end-to-end tests, with two confidential clients, one test user
 * and the package's development login and consent pages.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

/** The test user's claims. */
export const ALICE = {
  sub: 'alice',
  name: 'Alice Liddell',
  preferred_username: 'alice',
  email: 'alice@example.org',
  email_verified: true,
  organization: 'Wonderland',
} as const;

/** A running provider. */
export interface TestProvider {
  readonly issuer: string;
  readonly provider: Provider;
  close(): Promise<void>;
}

/** The clients registered at the provider. */
export interface TestClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  token_endpoint_auth_method: 'client_secret_basic' | 'client_secret_post';
}

/**
 * Starts the provider on 127.0.0.1 and an unused port. Accounts other than
 * `alice` do not exist (their login fails at the provider).
 */
export async function startTestProvider(clients: TestClient[]): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = {
    ...(await exportJWK(privateKey)),
    kid: 'test-signing-key',
    alg: 'RS256',
    use: 'sig',
  };
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      ...c,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    })),
    jwks: { keys: [jwk] },
    cookies: { keys: ['a cookie key for the test provider only'] },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username', 'organization'],
      email: ['email', 'email_verified'],
    },
    findAccount: (_ctx, id) =>
      id === ALICE.sub ? { accountId: id, claims: () => ({ ...ALICE }) } : undefined,
    features: { devInteractions: { enabled: true } },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Grant: 600,
      Interaction: 600,
      Session: 600,
    },
  });
  // Errors the provider reports (a replayed code, say) are expected in these tests.
  provider.on('server_error', () => undefined);
  server.on('request', provider.callback());
  return {
    issuer,
    provider,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
