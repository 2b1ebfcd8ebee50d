'use strict';
// The AI agent's request as the helpers read it: who calls, the session, the customer, the reason and summary.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const contract = require('../../../assets/tools/contract.private.js');
const handoverHelpers = require('../../../assets/tools/handover.private.js');

const handover = handoverHelpers(contract);
const SERVICE = `IS${'0123456789abcdef'.repeat(2)}`;
const CONVERSATION = `CH${'fedcba9876543210'.repeat(2)}`;
const TOKEN = 'a'.repeat(43);

describe('the helpers module', () => {
  it('is a factory of the contract that needs no Runtime global', () => {
    assert.equal(typeof globalThis.Runtime, 'undefined');
    assert.equal(typeof handoverHelpers, 'function');
    assert.equal(handover.contract, contract);
    assert.equal(handover.RELEASE_RESERVE_MS, contract.RELEASE_RESERVE_MS);
  });
});

describe('parseSession', () => {
  it('reads the service and the conversation of conversations__IS…/CH…', () => {
    assert.deepEqual(handover.parseSession(`conversations__${SERVICE}/${CONVERSATION}`), {
      ok: true,
      serviceSid: SERVICE,
      conversationSid: CONVERSATION,
    });
  });

  it('accepts the webhook: prefix', () => {
    const session = handover.parseSession(`webhook:conversations__${SERVICE}/${CONVERSATION}`);
    assert.deepEqual([session.ok, session.serviceSid, session.conversationSid], [true, SERVICE, CONVERSATION]);
  });

  it('rejects a missing or empty header with a 400 that says where the header comes from', () => {
    for (const value of [undefined, '']) {
      const result = handover.parseSession(value);
      assert.equal(result.ok, false);
      assert.equal(result.statusCode, 400);
      assert.equal(result.body.status, 'rejected');
      assert.match(result.body.error, /^The X-Session-Id header is missing\. Call this tool from an AI agent on a Conversations channel/);
    }
  });

  it('rejects a header sent twice', () => {
    const session = `conversations__${SERVICE}/${CONVERSATION}`;
    const result = handover.parseSession([session, session]);
    assert.equal(result.statusCode, 400);
    assert.equal(result.body.error, 'The X-Session-Id header was sent more than once; send it once.');
  });

  it('rejects what is not a Conversations session, quoting it', () => {
    for (const value of [
      `conversations__${CONVERSATION}/${SERVICE}`,
      `conversations__${SERVICE}/${CONVERSATION.slice(0, -1)}`,
      `conversations__${SERVICE}/CH${'g'.repeat(32)}`,
      `sms__${SERVICE}/${CONVERSATION}`,
      `conversations__${SERVICE}/${CONVERSATION}x`,
    ]) {
      const result = handover.parseSession(value);
      assert.equal(result.statusCode, 400, value);
      const quoted = JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
      assert.ok(result.body.error.startsWith(`The X-Session-Id header ${quoted} is not a Conversations session.`), result.body.error);
      assert.match(result.body.error, /expects conversations__IS<32 hex>\/CH<32 hex>, optionally prefixed with webhook:\.$/);
    }
  });

  it('quotes a long header cut to 60 characters', () => {
    const result = handover.parseSession('x'.repeat(100));
    assert.ok(result.body.error.includes(`"${'x'.repeat(60)}…"`));
    assert.ok(!result.body.error.includes('x'.repeat(61)));
  });
});

describe('parseIdentity', () => {
  const cases = [
    ['whatsapp:+15551234567', { channelType: 'whatsapp', address: 'whatsapp:+15551234567' }],
    ['whatsapp:whatsapp:+15551234567', { channelType: 'whatsapp', address: 'whatsapp:+15551234567' }],
    ['WhatsApp:+15551234567', { channelType: 'whatsapp', address: 'whatsapp:+15551234567' }],
    ['phone:+15551234567', { channelType: 'sms', address: '+15551234567' }],
    ['+15551234567', { channelType: 'sms', address: '+15551234567' }],
    ['flex_participant:FXabc123', { channelType: 'web', address: 'FXabc123', lookupIdentity: 'FXabc123' }],
    ['FXabc123', { channelType: 'web', address: 'FXabc123', lookupIdentity: 'FXabc123' }],
    ['FX../Users/other', { channelType: 'web', address: 'FX../Users/other', lookupIdentity: null }],
    ['email:ada@example.com', { channelType: 'chat', address: 'email:ada@example.com' }],
    ['user_id:42', { channelType: 'chat', address: 'user_id:42' }],
    ['odd:+15551234567', { channelType: 'chat', address: 'odd:+15551234567' }],
    [':+15551234567', { channelType: 'chat', address: ':+15551234567' }],
    ['+15551234567:ext', { channelType: 'sms', address: '+15551234567:ext' }],
    ['FX12:ab', { channelType: 'web', address: 'FX12:ab', lookupIdentity: null }],
  ];
  for (const [header, expected] of cases) {
    it(`maps ${header} to the ${expected.channelType} channel`, () => {
      assert.deepEqual(handover.parseIdentity(header), { ...expected, raw: header });
    });
  }

  it('reads a missing or non-string header as an unknown customer on the chat channel', () => {
    for (const value of [undefined, ['phone:+1555', 'phone:+1666'], 42]) {
      assert.deepEqual(handover.parseIdentity(value), { channelType: 'chat', address: '', raw: '' });
    }
  });

  it('records the identity up to the contract length', () => {
    assert.equal(contract.MAX_IDENTITY_LENGTH, 256);
    const identity = handover.parseIdentity(`email:${'x'.repeat(400)}`);
    assert.equal(identity.raw.length, 256);
    assert.equal(identity.address.length, 256);
    const shorter = handoverHelpers({ ...contract, MAX_IDENTITY_LENGTH: 8 }).parseIdentity('phone:+15551234567');
    assert.deepEqual(shorter, { channelType: 'sms', address: '+1', raw: 'phone:+1' });
  });
});

describe('parseContext', () => {
  it('keeps the reason and the summary as given', () => {
    assert.deepEqual(handover.parseContext({ reason: 'wants a human', summary: 'asked twice' }), {
      ok: true,
      reason: 'wants a human',
      summary: 'asked twice',
    });
  });

  it('reads a missing or null field as empty', () => {
    assert.deepEqual(handover.parseContext({}), { ok: true, reason: '', summary: '' });
    assert.deepEqual(handover.parseContext({ reason: null, summary: null }), { ok: true, reason: '', summary: '' });
  });

  it('cuts the reason and the summary at their limits, never refusing them', () => {
    assert.deepEqual([contract.MAX_REASON_LENGTH, contract.MAX_SUMMARY_LENGTH], [500, 4000]);
    const result = handover.parseContext({ reason: 'r'.repeat(501), summary: 's'.repeat(4001) });
    assert.equal(result.ok, true);
    assert.equal(result.reason, 'r'.repeat(500));
    assert.equal(result.summary, 's'.repeat(4000));
    const exact = handover.parseContext({ reason: 'r'.repeat(500), summary: 's'.repeat(4000) });
    assert.deepEqual([exact.reason.length, exact.summary.length], [500, 4000]);
  });

  it('cuts by code points, so that no emoji is split in half', () => {
    const result = handover.parseContext({ reason: '😀'.repeat(501) });
    assert.equal(result.reason, '😀'.repeat(500));
    assert.equal(result.reason.length, 1000);
  });

  it('cuts at the limits of the contract it was made of', () => {
    const small = handoverHelpers({ ...contract, MAX_REASON_LENGTH: 3, MAX_SUMMARY_LENGTH: 2 });
    assert.deepEqual(small.parseContext({ reason: 'abcdef', summary: 'xyz' }), { ok: true, reason: 'abc', summary: 'xy' });
  });

  it('refuses a field of another type with a 400 naming it and its type', () => {
    const cases = [
      [{ reason: 42 }, 'The field reason must be a string, got a number.'],
      [{ reason: true }, 'The field reason must be a string, got a boolean.'],
      [{ summary: { text: 'x' } }, 'The field summary must be a string, got an object.'],
      [{ summary: ['x'] }, 'The field summary must be a string, got an array.'],
    ];
    for (const [event, error] of cases) {
      const result = handover.parseContext(event);
      assert.equal(result.statusCode, 400);
      assert.deepEqual(result.body, { status: 'rejected', error });
    }
  });

  it('refuses an array body, which the runtime spreads into numbered keys', () => {
    const result = handover.parseContext({ 0: 'first', 1: 'second', reason: 'x' });
    assert.equal(result.statusCode, 400);
    assert.equal(result.body.error, 'The request body must be a JSON object with the fields reason and summary, not an array.');
  });
});

describe('headerOf', () => {
  it('reads the runtime request headers, and nothing when there are none', () => {
    assert.equal(handover.headerOf({ request: { headers: { 'x-identity': 'phone:+1555' } } }, 'x-identity'), 'phone:+1555');
    assert.equal(handover.headerOf({}, 'x-identity'), undefined);
    assert.equal(handover.headerOf(undefined, 'x-identity'), undefined);
  });
});

describe('authenticate', () => {
  const context = { AUTH_TOKEN: 'auth-token', DOMAIN_NAME: 'example-1234-dev.twil.io', PATH: '/tools/flex-handover' };
  const refuseSignature = () => assert.fail('the signature must not be checked');

  it('lets in the token as the token query parameter or the X-Handover-Token header', () => {
    const byQuery = { token: TOKEN, request: { headers: {} } };
    const byHeader = { request: { headers: { 'x-handover-token': TOKEN } } };
    for (const event of [byQuery, byHeader]) {
      assert.deepEqual(handover.authenticate({ context, event, token: TOKEN, validateSignature: refuseSignature }), { ok: true });
    }
  });

  it('refuses a wrong token, and a right one beside a wrong one, with a 401', () => {
    for (const event of [
      { token: 'b'.repeat(43), request: { headers: {} } },
      { token: TOKEN, request: { headers: { 'x-handover-token': 'b'.repeat(43) } } },
      { token: ['x', TOKEN], request: { headers: {} } },
    ]) {
      const result = handover.authenticate({ context, event, token: TOKEN, validateSignature: refuseSignature });
      assert.equal(result.statusCode, 401);
      assert.match(result.body.error, /^The handover token is not valid\./);
      assert.ok(!JSON.stringify(result).includes(TOKEN));
    }
  });

  it('checks a signature against the function URL and the parameters without the runtime request', () => {
    const event = { reason: 'x', request: { headers: { 'x-twilio-signature': 'signed' } } };
    const calls = [];
    const validateSignature = (...args) => calls.push(args) > 0;
    assert.deepEqual(handover.authenticate({ context, event, token: TOKEN, validateSignature }), { ok: true });
    assert.deepEqual(calls, [['auth-token', 'signed', 'https://example-1234-dev.twil.io/tools/flex-handover', { reason: 'x' }]]);
    const refused = handover.authenticate({ context, event, token: TOKEN, validateSignature: () => false });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.body.error, 'The X-Twilio-Signature is not valid for this URL and these parameters.');
  });

  it('refuses a call without a credential, naming the token parameter and header of the contract', () => {
    const result = handover.authenticate({ context, event: { request: { headers: {} } }, token: TOKEN, validateSignature: refuseSignature });
    assert.equal(result.statusCode, 401);
    assert.equal(
      result.body.error,
      'This tool needs a credential: the token query parameter of the tool URL, the X-Handover-Token header, or a valid X-Twilio-Signature.'
    );
  });
});
