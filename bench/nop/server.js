// node-oidc-provider configured like keystead for bench/run.py (like for like).
//
//   node server.js --port 9100 [--client-secret S] [--user bench]
//                  [--adapter memory|redis --redis-url redis://127.0.0.1:6379 --redis-prefix P]
//
// One confidential client (client_secret_basic) allowed authorization_code, refresh_token and
// client_credentials; resource indicators on, with the same two APIs keystead gets in the
// benchmark: https://api.example.com (scope api:read, ES256 JWT access tokens) and
// https://opaque.example.com (scope opaque:read, opaque tokens, for introspection: NOP refuses
// to introspect JWT access tokens). Refresh tokens rotate on every use, as keystead's do.
// The same key types as keystead's JWKS (ES256, RS256, PS256, EdDSA), generated at start.
// Storage: NOP's own in-memory adapter (an LRU of 1000 entries, the default), or with
// --adapter redis the Redis adapter of redis_adapter.js (NOP's documented storage model), its
// keys under --redis-prefix so runs sharing a Redis do not collide.
// The interaction logs a fixed user in and grants what was asked, without pages: the
// benchmark measures the protocol endpoints, and NOP's dev interactions check no password.
// Same paths as keystead: /authorize /token /introspect /jwks. Listens on 127.0.0.1 only.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

import { createRedisAdapter } from './redis_adapter.js';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '9100' },
    'client-id': { type: 'string', default: 'bench-client' },
    'client-secret': { type: 'string', default: 'bench-client-secret-0123456789abcdef' },
    'redirect-uri': { type: 'string', default: 'https://rp.example.com/cb' },
    user: { type: 'string', default: 'bench-user' },
    adapter: { type: 'string', default: 'memory' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    'redis-prefix': { type: 'string', default: `nop-bench:${randomUUID()}:` },
  },
});

if (!['memory', 'redis'].includes(args.adapter)) {
  throw new Error(`--adapter: memory or redis, not ${args.adapter}`);
}
const redis = args.adapter === 'redis'
  ? createRedisAdapter(args['redis-url'], args['redis-prefix'])
  : null;
if (redis) await redis.client.ping(); // fail at start, not on the first request

const port = Number(args.port);
const issuer = `http://127.0.0.1:${port}`;

const API = 'https://api.example.com';
const OPAQUE_API = 'https://opaque.example.com';
const RESOURCE_SERVERS = {
  [API]: {
    scope: 'api:read',
    audience: API,
    accessTokenTTL: 3600,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'ES256' } },
  },
  [OPAQUE_API]: {
    scope: 'opaque:read',
    audience: OPAQUE_API,
    accessTokenTTL: 3600,
    accessTokenFormat: 'opaque',
  },
};

function jwk(type, options, alg, kid) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, kid, use: 'sig' };
}

const keys = [
  jwk('ec', { namedCurve: 'P-256' }, 'ES256', 'es256'),
  jwk('rsa', { modulusLength: 2048 }, 'RS256', 'rs256'),
  jwk('rsa', { modulusLength: 2048 }, 'PS256', 'ps256'),
  jwk('ed25519', {}, 'EdDSA', 'eddsa'),
];

const configuration = {
  ...(redis ? { adapter: redis.Adapter } : {}),
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      client_name: 'bench',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      redirect_uris: [args['redirect-uri']],
      scope: 'openid offline_access api:read opaque:read',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys },
  cookies: { keys: [randomUUID(), randomUUID()] },
  routes: {
    authorization: '/authorize',
    token: '/token',
    introspection: '/introspect',
    revocation: '/revoke',
    jwks: '/jwks',
    userinfo: '/userinfo',
  },
  scopes: ['openid', 'offline_access', 'api:read', 'opaque:read'], // the client's scope lists them
  claims: { openid: ['sub'] },
  pkce: { required: () => true }, // keystead requires PKCE of this client too
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (_ctx, _client, oneOf) => oneOf ?? API,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource) => {
        const info = RESOURCE_SERVERS[resource];
        if (!info) throw new Provider.errors.InvalidTarget();
        return info;
      },
    },
  },
  rotateRefreshToken: true, // keystead rotates on every use
  ttl: {
    AccessToken: 3600,
    ClientCredentials: 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 14 * 86400,
    Grant: 30 * 86400,
    Session: 86400,
    Interaction: 900,
  },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const provider = new Provider(issuer, configuration);

// The interaction: log the fixed user in; on consent, a new grant with what was asked.
provider.use(async (ctx, next) => {
  if (ctx.method !== 'GET' || !ctx.path.startsWith('/interaction/')) {
    await next();
    return;
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params } = details;
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: args.user } };
  } else {
    // A grant of its own with everything asked for (not only what is missing from the
    // session's last grant): each pre-minted refresh token gets a grant of its own.
    const grant = new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    const asked = new Set((params.scope ?? '').split(' '));
    grant.addOIDCScope([...asked].join(' '));
    const resources = [params.resource ?? []].flat();
    for (const resource of resources) {
      const scopes = RESOURCE_SERVERS[resource]?.scope.split(' ').filter((s) => asked.has(s));
      if (scopes?.length) grant.addResourceScope(resource, scopes.join(' '));
    }
    result = { consent: { grantId: await grant.save() } };
  }
  const location = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: true,
  });
  ctx.status = 303;
  ctx.set('Location', location);
  ctx.body = '';
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`node-oidc-provider (${args.adapter} adapter) listening on ${issuer}`);
});
