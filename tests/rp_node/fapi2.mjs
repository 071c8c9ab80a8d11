// openid-client (panva) as a FAPI 2.0 Security Profile client, driven by
// tests/e2e/test_openid_client_fapi2.py: private_key_jwt, PAR with a DPoP proof, the code
// redeemed with DPoP, UserInfo and a refresh with the same key. Each command prints one JSON
// object. The keys come as JWKs from the test, so both commands use the same ones.
//   node fapi2.mjs start  ISSUER CLIENT_ID REDIRECT_URI CLIENT_JWK DPOP_JWK
//   node fapi2.mjs finish ISSUER CLIENT_ID REDIRECT_URI CLIENT_JWK DPOP_JWK CALLBACK VERIFIER STATE NONCE
import * as client from "openid-client";

const [command, issuer, clientId, redirectUri, clientJwk, dpopJwk, ...rest] = process.argv.slice(2);
const EC = { name: "ECDSA", namedCurve: "P-256" };

async function privateKey(jwk) {
  return crypto.subtle.importKey("jwk", jwk, EC, false, ["sign"]);
}

async function configuration() {
  const jwk = JSON.parse(clientJwk);
  const auth = client.PrivateKeyJwt({ key: await privateKey(jwk), kid: jwk.kid });
  // http on localhost only: keystead runs as a real process on a loopback port in the test
  return client.discovery(
    new URL(issuer), clientId,
    { redirect_uris: [redirectUri], id_token_signed_response_alg: "ES256" }, auth,
    { execute: [client.allowInsecureRequests] },
  );
}

async function dpop(config) {
  const jwk = JSON.parse(dpopJwk);
  const { d, ...pub } = jwk;
  const keyPair = {
    privateKey: await privateKey(jwk),
    publicKey: await crypto.subtle.importKey("jwk", pub, EC, true, ["verify"]),
  };
  return client.getDPoPHandle(config, keyPair);
}

async function start() {
  const config = await configuration();
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const parameters = {
    redirect_uri: redirectUri,
    scope: "openid profile offline_access",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  };
  const url = await client.buildAuthorizationUrlWithPAR(config, parameters, {
    DPoP: await dpop(config),
  });
  return { url: url.href, verifier, state, nonce };
}

async function finish() {
  const [callbackUrl, verifier, state, nonce] = rest;
  const config = await configuration();
  const DPoP = await dpop(config);
  try {
    const tokens = await client.authorizationCodeGrant(
      config, new URL(callbackUrl),
      { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce },
      undefined, { DPoP },
    );
    const sub = tokens.claims().sub;
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub, { DPoP });
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, {
      DPoP,
    });
    return {
      token_type: tokens.token_type,
      claims: tokens.claims(),
      userinfo,
      refreshed_token_type: refreshed.token_type,
    };
  } catch (err) {
    return { error: err.code ?? err.name, message: err.message, cause: err.cause?.message ?? "" };
  }
}

const commands = { start, finish };
const result = await commands[command]();
process.stdout.write(JSON.stringify(result) + "\n");
