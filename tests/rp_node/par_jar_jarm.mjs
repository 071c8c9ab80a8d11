// openid-client (panva) with PAR (RFC 9126), JAR (RFC 9101) and JARM, driven by
// tests/e2e/test_openid_client_par_jar_jarm.py: each command prints one JSON object.
//   node par_jar_jarm.mjs start  ISSUER CLIENT_ID SECRET REDIRECT_URI MODES PRIVATE_JWK
//   node par_jar_jarm.mjs finish ISSUER CLIENT_ID SECRET REDIRECT_URI MODES CALLBACK VERIFIER STATE NONCE
// MODES: a comma-separated subset of par, jar, jarm, enc (JARM encrypted to the private
// ECDH-ES+A256KW key in the environment variable DECRYPTION_JWK).
import * as client from "openid-client";

const [command, issuer, clientId, secret, redirectUri, modes, ...rest] = process.argv.slice(2);
const uses = new Set(modes.split(","));

async function configuration() {
  // http on localhost only: keystead runs as a real process on a loopback port in the test
  const config = await client.discovery(
    new URL(issuer), clientId, { redirect_uris: [redirectUri] }, client.ClientSecretBasic(secret),
    { execute: [client.allowInsecureRequests] },
  );
  if (uses.has("jarm")) client.useJwtResponseMode(config);
  if (uses.has("enc")) {
    const jwk = JSON.parse(process.env.DECRYPTION_JWK);
    const key = await crypto.subtle.importKey(
      "jwk", jwk, { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"],
    );
    client.enableDecryptingResponses(config, ["A256GCM"], { key, alg: "ECDH-ES+A256KW", kid: jwk.kid });
  }
  return config;
}

async function start() {
  const [privateJwk] = rest;
  const config = await configuration();
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  let parameters = {
    redirect_uri: redirectUri,
    scope: "openid profile",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  };
  if (uses.has("jarm")) parameters.response_mode = "jwt";
  let url;
  if (uses.has("jar")) {
    const jwk = JSON.parse(privateJwk);
    const key = await crypto.subtle.importKey(
      "jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"],
    );
    const signingKey = { key, kid: jwk.kid };
    if (uses.has("par")) {
      // a request object pushed to /par (RFC 9126 §3)
      const jar = await client.buildAuthorizationUrlWithJAR(config, parameters, signingKey);
      parameters = { request: jar.searchParams.get("request") };
      url = await client.buildAuthorizationUrlWithPAR(config, parameters);
    } else {
      url = await client.buildAuthorizationUrlWithJAR(config, parameters, signingKey);
    }
  } else if (uses.has("par")) {
    url = await client.buildAuthorizationUrlWithPAR(config, parameters);
  } else {
    url = client.buildAuthorizationUrl(config, parameters);
  }
  return { url: url.href, verifier, state, nonce };
}

async function finish() {
  const [callbackUrl, verifier, state, nonce] = rest;
  const config = await configuration();
  try {
    const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    return { claims: tokens.claims() };
  } catch (err) {
    return { error: err.code ?? err.name, message: err.message, cause: err.cause?.message ?? "" };
  }
}

const commands = { start, finish };
const result = await commands[command]();
process.stdout.write(JSON.stringify(result) + "\n");
