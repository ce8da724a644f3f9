import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalQuery, canonicalRequest, canonicalUri, parseAuthorization, sign, stringToSign } from '../../src/iam/signature.js';

// The worked example of the Huawei Cloud API Request Signing Guide
// (devg-apisign: "Example of the API Signature Authentication Mechanism", "Calculating the
// Signature", "Adding the Signature to the Request Header").
const EXAMPLE = {
  ak: 'QTWAOYTTINDUT2QVKYUC',
  sk: 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc',
  date: '20191115T033655Z',
  canonical: [
    'GET',
    '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/',
    'limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
    'content-type:application/json',
    'host:service.region.example.com',
    'x-sdk-date:20191115T033655Z',
    '',
    'content-type;host;x-sdk-date',
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  ].join('\n'),
  stringToSignHash: 'b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a',
  signature: '7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe',
};

describe('SDK-HMAC-SHA256 signature', () => {
  it('reproduces the signing guide\'s worked example step by step', () => {
    const canonical = canonicalRequest(
      {
        method: 'GET',
        url: '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?marker=13551d6b-755d-4757-b956-536f674975c0&limit=2',
        headers: { 'content-type': 'application/json', host: 'service.region.example.com', 'x-sdk-date': EXAMPLE.date },
        body: Buffer.alloc(0),
      },
      ['content-type', 'host', 'x-sdk-date'],
    );
    assert.equal(canonical, EXAMPLE.canonical);
    const toSign = stringToSign(canonical, EXAMPLE.date);
    assert.equal(toSign, `SDK-HMAC-SHA256\n${EXAMPLE.date}\n${EXAMPLE.stringToSignHash}`);
    assert.equal(sign(EXAMPLE.sk, toSign), EXAMPLE.signature);
    const header = parseAuthorization(`SDK-HMAC-SHA256 Access=${EXAMPLE.ak}, SignedHeaders=content-type;host;x-sdk-date, Signature=${EXAMPLE.signature}`);
    assert.deepEqual(header, { accessKey: EXAMPLE.ak, signedHeaders: ['content-type', 'host', 'x-sdk-date'], signature: EXAMPLE.signature });
  });

  it('encodes the URI and query as the official Python signer does', () => {
    assert.equal(canonicalUri('/v1/p/a b/c%2Bd'), '/v1/p/a%20b/c%2Bd/');
    assert.equal(canonicalUri('/'), '/');
    assert.equal(canonicalQuery('b=2&a=1&a=0&c'), 'a=0&a=1&b=2&c=');
    assert.equal(canonicalQuery("k=it's(*)~!"), 'k=it%27s%28%2A%29~%21');
    assert.equal(canonicalQuery('label=app%3Ademo'), 'label=app%3Ademo');
  });

  it('hashes the body unless X-Sdk-Content-Sha256 says UNSIGNED-PAYLOAD', () => {
    const base = { method: 'POST', url: '/x', headers: { host: 'h' } };
    const hashed = canonicalRequest({ ...base, body: Buffer.from('{"a":1}') }, ['host']);
    assert.match(hashed, /\n015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862$/);
    const unsigned = canonicalRequest({ ...base, headers: { host: 'h', 'x-sdk-content-sha256': 'UNSIGNED-PAYLOAD' }, body: Buffer.from('x') }, ['host', 'x-sdk-content-sha256']);
    assert.match(unsigned, /\nUNSIGNED-PAYLOAD$/);
  });

  it('rejects Authorization headers of other schemes', () => {
    assert.equal(parseAuthorization('Bearer abc'), undefined);
    assert.equal(parseAuthorization('SDK-HMAC-SHA256 Access=a, SignedHeaders=host'), undefined);
  });
});
