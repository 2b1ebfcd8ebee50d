'use strict';
// The bot's webhooks: which of a conversation's webhooks are the bot's, how the handoff keeps them, and how
// the bot gets them back.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const contract = require('../../../assets/tools/contract.private.js');
const handoverHelpers = require('../../../assets/tools/handover.private.js');

const handover = handoverHelpers(contract);
const claim = handover.claimOf({
  config: { syncServiceSid: `IS${'5'.repeat(32)}` },
  session: { conversationSid: `CH${'0'.repeat(32)}` },
  handoff: { requestedAt: '2026-01-02T03:04:05.000Z' },
});

// As the Conversations API answers a conversation's webhooks (twilio-node keeps `configuration` as sent).
const BOT = {
  sid: `WH${'1'.repeat(32)}`,
  target: 'webhook',
  configuration: { url: 'https://bot.example.com/messages', method: 'POST', filters: ['onMessageAdded'], triggers: [], flow_sid: null, replay_after: null },
};
const STUDIO = { sid: `WH${'2'.repeat(32)}`, target: 'studio', configuration: { flow_sid: `FW${'3'.repeat(32)}`, replay_after: 0, filters: [] } };
const FLEX = { sid: `WH${'4'.repeat(32)}`, target: 'webhook', configuration: { url: 'https://webhooks.twilio.com/v1/Flex', method: 'POST', filters: ['onMessageAdded'] } };
const TRIGGER = { sid: `WH${'5'.repeat(32)}`, target: 'trigger', configuration: { url: 'https://bot.example.com/trigger', method: 'POST', triggers: ['help'] } };

describe('botWebhooksOf', () => {
  it("keeps the webhooks to the bot's own URLs, whole", () => {
    assert.deepEqual(handover.botWebhooksOf([BOT, STUDIO, FLEX, TRIGGER]), [{ sid: BOT.sid, target: 'webhook', configuration: BOT.configuration }]);
  });

  it('never takes Studio or a URL of Twilio for the bot', () => {
    assert.deepEqual(handover.botWebhooksOf([STUDIO, FLEX, { ...FLEX, configuration: { url: 'https://twilio.com/x' } }]), []);
  });

  it('takes a webhook whose URL does not parse for the bot: it is not Twilio\'s', () => {
    const odd = { sid: `WH${'6'.repeat(32)}`, target: 'webhook', configuration: { url: 'not a url' } };
    assert.equal(handover.botWebhooksOf([odd]).length, 1);
  });

  it('copies the configuration, so that a later change of the answer changes nothing kept', () => {
    const kept = handover.botWebhooksOf([BOT])[0];
    assert.notEqual(kept.configuration, BOT.configuration);
  });
});

describe('handedOffAttributes with the bot', () => {
  it("records the bot's webhooks beside the handoff", () => {
    const saved = handover.botWebhooksOf([BOT]);
    assert.deepEqual(handover.handedOffAttributes('{"topic":"refund"}', claim, saved), {
      topic: 'refund',
      handedOff: true,
      handedOffAt: '2026-01-02T03:04:05.000Z',
      handoffClaimId: claim.item.data.claimId,
      handoffBotWebhooks: saved,
    });
  });

  it('drops an earlier handoff\'s list when this one removes none', () => {
    const marked = handover.handedOffAttributes(JSON.stringify({ handoffBotWebhooks: [BOT] }), claim, []);
    assert.equal('handoffBotWebhooks' in marked, false);
  });

  it('is taken back with the rest of the record after a failed handoff', () => {
    const marked = JSON.stringify(handover.handedOffAttributes('{"topic":"refund"}', claim, handover.botWebhooksOf([BOT])));
    assert.deepEqual(handover.unmarkedAttributes(marked, '{"topic":"refund"}', claim), { topic: 'refund' });
  });
});

describe('webhookRequestOf', () => {
  it('makes the webhook again as the Conversations API takes it', () => {
    assert.deepEqual(handover.webhookRequestOf(handover.botWebhooksOf([BOT])[0]), {
      target: 'webhook',
      'configuration.url': 'https://bot.example.com/messages',
      'configuration.method': 'post',
      'configuration.filters': ['onMessageAdded'],
    });
  });

  it('keeps triggers and a flow where the webhook had them, never its replay (the bot would answer twice)', () => {
    const saved = { target: 'webhook', configuration: { url: 'https://b.example/x', method: 'GET', triggers: ['agent'], flow_sid: `FW${'3'.repeat(32)}`, replay_after: 2 } };
    assert.deepEqual(handover.webhookRequestOf(saved), {
      target: 'webhook',
      'configuration.url': 'https://b.example/x',
      'configuration.method': 'get',
      'configuration.triggers': ['agent'],
      'configuration.flowSid': `FW${'3'.repeat(32)}`,
    });
  });
});

describe('missingWebhooks', () => {
  const saved = handover.botWebhooksOf([BOT]);

  it('names a saved webhook the conversation lacks', () => {
    assert.deepEqual(handover.missingWebhooks(saved, [STUDIO]), saved);
  });

  it('names none the conversation has again, whatever its new SID, method case or filter order', () => {
    const again = { ...BOT, sid: `WH${'9'.repeat(32)}`, configuration: { ...BOT.configuration, method: 'post' } };
    assert.deepEqual(handover.missingWebhooks(saved, [again]), []);
  });

  it('tells apart a webhook to the same URL with other filters', () => {
    const other = { ...BOT, configuration: { ...BOT.configuration, filters: ['onMessageUpdated'] } };
    assert.deepEqual(handover.missingWebhooks(saved, [other]), saved);
  });
});
