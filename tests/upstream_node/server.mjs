// node-oidc-provider as the REAL upstream OpenID Provider of keystead's federation tests.
// tests/e2e/upstream.py (NopUpstream) starts it; everything comes from the environment:
//
//   PORT       port to listen on (127.0.0.1 only)
//   ISSUER     default http://127.0.0.1:PORT
//   CLIENTS    JSON list of client metadata, passed to the provider as is, e.g.
//              [{"client_id": "ks", "client_secret": "s", "redirect_uris": ["http://.../cb"],
//                "token_endpoint_auth_method": "client_secret_basic"}]
//   ACCOUNTS   JSON object: login -> claims, e.g. {"ada": {"sub": "ada-1", "email": "ada@x",
//              "email_verified": true, "name": "Ada L"}}; "sub" defaults to the login.
//   JWKS       JSON {"keys": [private JWKs]}; the first key of an algorithm signs, all are
//              published at jwks_uri (so two keys = a rotation in progress). Restarting with
//              other keys = a key rotation.
//   CONFORM_ID_TOKEN_CLAIMS  "true": scope claims only through UserInfo (the spec's default
//              when an access token is issued); otherwise (default) they are in the ID token too.
//   MISCHIEF   JSON, optional, see below; also settable at runtime: POST /__harness/mischief.
//   EXIT_WITH_STDIN  "1": exit when stdin closes (the test process died without stopping us).
//
// Interactions: no devInteractions. GET /interaction/:uid shows one form with a `login` field
// (and the client and scopes asked for); POST completes login AND consent at once, granting
// every scope and claim the client requested. An unknown login gets the form again (401).
//
// Mischief (for keystead's negative tests) rewrites the ID token of token responses:
//   {"id_token_claims": {"nonce": "other"}}  merge these claims, re-sign with the same key
//   {"id_token_signature": "tamper"}         flip bits of the signature (payload unchanged)
//   {"token_error": "invalid_grant"}         answer the token request with this error (400)
// POST /__harness/mischief with {} turns it off. Loopback test harness only.
import { createPrivateKey, sign as cryptoSign } from 'node:crypto';

import Provider from 'oidc-provider';

const PORT = Number(process.env.PORT || 0);
const ISSUER = process.env.ISSUER || `http://127.0.0.1:${PORT}`;
const CLIENTS = JSON.parse(process.env.CLIENTS || '[]');
const ACCOUNTS = JSON.parse(process.env.ACCOUNTS || '{}');
const JWKS = JSON.parse(process.env.JWKS || 'null');
let mischief = JSON.parse(process.env.MISCHIEF || '{}');

if (!PORT) throw new Error('PORT is required');
if (!JWKS || !Array.isArray(JWKS.keys) || !JWKS.keys.length) throw new Error('JWKS is required');

const log = (event, data = {}) => console.log(JSON.stringify({ event, ...data }));

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The login typed in the form picks the account; its `sub` (default: the login) is the
// provider's accountId, so the ID token's and UserInfo's `sub` is the configured one.
function accountClaims(login) {
  const claims = ACCOUNTS[login];
  if (!claims) return undefined;
  return { sub: login, ...claims };
}

const BY_SUB = new Map(Object.keys(ACCOUNTS).map((login) => [accountClaims(login).sub, login]));

const configuration = {
  clients: CLIENTS,
  jwks: JWKS,
  cookies: { keys: ['keystead upstream harness cookie key'] },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: [
      'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username',
      'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at',
    ],
  },
  conformIdTokenClaims: process.env.CONFORM_ID_TOKEN_CLAIMS === 'true',
  pkce: { required: () => true }, // every client, confidential ones too
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const claims = BY_SUB.has(id) ? accountClaims(BY_SUB.get(id)) : undefined;
    if (!claims) return undefined;
    return { accountId: id, claims: async () => claims };
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>upstream error</title><h1>${escapeHtml(out.error)}</h1>`
      + `<p id="error_description">${escapeHtml(out.error_description || '')}</p>`;
  },
};

const provider = new Provider(ISSUER, configuration);

for (const name of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error',
  'jwks.error', 'introspection.error', 'revocation.error', 'end_session.error']) {
  provider.on(name, (...args) => {
    const err = args.find((a) => a instanceof Error);
    log(name, { error: err?.message, description: err?.error_description });
  });
}
provider.on('grant.success', (ctx) => log('grant.success', { client: ctx.oidc.client?.clientId }));

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

function loginPage(uid, details, message) {
  const { params } = details;
  return `<!doctype html>
<html><head><title>Upstream sign-in</title></head><body>
<h1>Sign in to the upstream</h1>
<p id="client">${escapeHtml(params.client_id)}</p>
<p id="scope">${escapeHtml(params.scope || '')}</p>
${message ? `<p id="message">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}">
<input type="text" name="login" value="" autofocus>
<button type="submit">Sign in and allow</button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/abort">
<button type="submit">Cancel</button>
</form>
</body></html>`;
}

async function grantEverything(details, accountId) {
  const { params } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  if (params.scope) grant.addOIDCScope(params.scope);
  if (params.claims) {
    const requested = JSON.parse(params.claims);
    const names = new Set();
    for (const part of ['id_token', 'userinfo']) {
      for (const claim of Object.keys(requested[part] || {})) names.add(claim);
    }
    if (names.size) grant.addOIDCClaims([...names]);
  }
  const missing = details.prompt?.details || {};
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  return grant.save();
}

provider.use(async (ctx, next) => {
  const interaction = ctx.path.match(/^\/interaction\/([^/]+)(\/abort)?$/);
  if (interaction) {
    const [, uid, abort] = interaction;
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
    if (ctx.method === 'GET' && !abort) {
      ctx.type = 'html';
      ctx.body = loginPage(uid, details);
      return;
    }
    if (ctx.method !== 'POST') ctx.throw(405);
    if (abort) {
      const result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
      ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
      return;
    }
    const login = (await readForm(ctx.req)).get('login') || '';
    if (!accountClaims(login)) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(uid, details, `unknown login: ${login}`);
      return;
    }
    const accountId = accountClaims(login).sub;
    log('interaction.login', { login, accountId, client: details.params.client_id });
    const grantId = await grantEverything(details, accountId);
    const result = { login: { accountId }, consent: { grantId } };
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
    return;
  }
  if (ctx.path === '/__harness/mischief' && ctx.method === 'POST') {
    mischief = await readJson(ctx.req);
    log('mischief', mischief);
    ctx.body = { mischief };
    return;
  }
  if (ctx.path === '/token' && ctx.method === 'POST' && mischief.token_error) {
    ctx.status = 400;
    ctx.body = { error: mischief.token_error, error_description: 'harness mischief' };
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: misbehave(ctx.body.id_token) };
  }
});

function b64url(buffer) {
  return Buffer.from(buffer).toString('base64url');
}

function misbehave(idToken) {
  let [header, payload, signature] = idToken.split('.');
  if (mischief.id_token_claims) {
    const claims = { ...JSON.parse(Buffer.from(payload, 'base64url')), ...mischief.id_token_claims };
    payload = b64url(JSON.stringify(claims));
    signature = resign(JSON.parse(Buffer.from(header, 'base64url')), `${header}.${payload}`);
  }
  if (mischief.id_token_signature === 'tamper') {
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] ^= 0xff;
    bytes[bytes.length - 1] ^= 0xff;
    signature = b64url(bytes);
  }
  return `${header}.${payload}.${signature}`;
}

function resign(header, input) {
  const jwk = JWKS.keys.find((k) => k.kid === header.kid) || JWKS.keys[0];
  const key = createPrivateKey({ key: jwk, format: 'jwk' });
  const hash = `sha${header.alg.slice(2)}`;
  if (header.alg.startsWith('RS')) return b64url(cryptoSign(hash, Buffer.from(input), key));
  if (header.alg.startsWith('PS')) {
    return b64url(cryptoSign(hash, Buffer.from(input), { key, padding: 6, saltLength: Number(header.alg.slice(2)) / 8 }));
  }
  if (header.alg.startsWith('ES')) {
    return b64url(cryptoSign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }));
  }
  if (header.alg === 'EdDSA' || header.alg === 'Ed25519') return b64url(cryptoSign(null, Buffer.from(input), key));
  throw new Error(`cannot re-sign ${header.alg}`);
}

const server = provider.listen(PORT, '127.0.0.1', () => {
  log('listening', { issuer: ISSUER, port: PORT, kids: JWKS.keys.map((k) => k.kid) });
});

// Started with stdin a pipe from the test process (EXIT_WITH_STDIN=1): gone when it is gone.
if (process.env.EXIT_WITH_STDIN === '1') {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
