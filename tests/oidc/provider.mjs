// A certified OpenID provider (panva's oidc-provider) on loopback for Kringloop's tests.
//
//   node tests/oidc/provider.mjs PORT      (or OIDC_PORT=PORT)
//
// OIDC_KEYS_FILE names a private JSON Web Key Set written by the test harness: the provider
// signs with its first key and publishes the public half of all of them. POST /__test/rotate
// reads that file again (the harness writes a new key first, the old one after it), which is
// how a real provider rolls its keys; clients, codes and grants survive the rotation.
//
// Clients register themselves (RFC 7591 dynamic registration, open on this test provider),
// PKCE (S256) is required of every client, and the interaction is a tiny login form: any
// subject logs in at the assurance level (acr) the form is given, and consents at once.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';
// the in-memory adapter, its store shared by every Provider this process builds
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';

const port = Number(process.argv[2] ?? process.env.OIDC_PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node provider.mjs PORT (or OIDC_PORT=PORT)');
  process.exit(2);
}
const keysFile = process.env.OIDC_KEYS_FILE;
const issuer = `http://127.0.0.1:${port}`;
const API_RESOURCE = 'urn:kringloop:api';
const LEVELS = [
  'http://eidas.europa.eu/LoA/low',
  'http://eidas.europa.eu/LoA/substantial',
  'http://eidas.europa.eu/LoA/high',
];

function loadKeys() {
  if (!keysFile) throw new Error('OIDC_KEYS_FILE must name the private JWKS to sign with');
  return JSON.parse(readFileSync(keysFile, 'utf8'));
}

function build() {
  const provider = new Provider(issuer, {
    jwks: loadKeys(),
    adapter: (model) => new MemoryAdapter(model),
    cookies: { keys: ['kringloop-test-provider-cookies'] },
    acrValues: LEVELS,
    claims: { openid: ['sub'], email: ['email'] },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      // access tokens for the API are JWTs whose audience is the client itself, as Entra ID
      // (v2 tokens) and Keycloak (with an audience mapper) issue them
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, _resource, client) => ({
          scope: 'api',
          audience: client.clientId,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 300,
        }),
      },
    },
    pkce: { required: () => true },
    async findAccount(_ctx, sub) {
      return { accountId: sub, claims: async () => ({ sub }) };
    },
  });
  provider.on('server_error', (_ctx, error) => console.error('provider error', error));
  return provider;
}

let current = build();
let handler = current.callback();

function page(res, status, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider</title></head><body>${body}</body></html>`);
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, uid, action) {
  const details = await current.interactionDetails(req, res);
  if (details.uid !== uid) return page(res, 400, '<p>interaction mismatch</p>');
  if (req.method === 'GET' && !action) {
    const asked = String(details.params.acr_values ?? '').split(' ').find((v) => LEVELS.includes(v));
    return page(res, 200, `
      <h1>Test provider: log in</h1>
      <form method="post" action="/interaction/${escape(uid)}/login">
        <label for="subject">Subject</label> <input id="subject" name="subject" required>
        <label for="acr">Assurance</label> <input id="acr" name="acr" value="${escape(asked ?? LEVELS[1])}">
        <button type="submit" id="sign-in">Sign in</button>
      </form>`);
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await formBody(req);
    const subject = form.get('subject');
    if (!subject) return page(res, 400, '<p>a subject is required</p>');
    const grant = new current.Grant({ accountId: subject, clientId: details.params.client_id });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    grant.addResourceScope(API_RESOURCE, 'api');
    const grantId = await grant.save();
    return current.interactionFinished(
      req,
      res,
      { login: { accountId: subject, acr: form.get('acr') || LEVELS[1] }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }
  return page(res, 405, '<p>method not allowed</p>');
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/__test/rotate' && req.method === 'POST') {
      current = build();
      handler = current.callback();
      res.setHeader('Content-Type', 'application/json');
      return res.end(JSON.stringify({ kids: loadKeys().keys.map((k) => k.kid) }));
    }
    const match = url.pathname.match(/^\/interaction\/([^/]+)(?:\/(login))?$/);
    if (match) return await interaction(req, res, match[1], match[2]);
    return handler(req, res);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) page(res, 500, `<p>${escape(error.message)}</p>`);
    else res.end();
  }
});

server.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
