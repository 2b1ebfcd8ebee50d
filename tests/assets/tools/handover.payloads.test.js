'use strict';
// What the helpers ask Twilio for: the Interactions request, the Studio Executions request, and the
// searches for what a handoff delivered when the answer was lost.
const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const contract = require('../../../assets/tools/contract.private.js');
const handoverHelpers = require('../../../assets/tools/handover.private.js');

const handover = handoverHelpers(contract);
const SERVICE = `IS${'a'.repeat(32)}`;
const CONVERSATION = `CH${'b'.repeat(32)}`;
const session = { ok: true, serviceSid: SERVICE, conversationSid: CONVERSATION };
const handoff = { reason: 'asks for a human', summary: 'refund', source: '/tools/flex-handover', requestedAt: '2026-01-02T03:04:05.678Z' };
const config = {
  workspaceSid: `WS${'c'.repeat(32)}`,
  workflowSid: `WW${'d'.repeat(32)}`,
  taskChannel: 'chat',
  fromAddress: '+15550001111',
  staticAttributes: { department: 'support', from: 'static', handoff: 'static', channelType: 'static' },
};
const whatsapp = handover.parseIdentity('whatsapp:+15551234567');

describe('buildInteraction', () => {
  it('routes the conversation to the workflow with the customer and the handoff as task attributes', () => {
    assert.deepEqual(handover.buildInteraction({ config, session, identity: whatsapp, customerName: null, handoff }), {
      channel: { type: 'whatsapp', initiated_by: 'customer', properties: { media_channel_sid: CONVERSATION } },
      routing: {
        properties: {
          workspace_sid: config.workspaceSid,
          workflow_sid: config.workflowSid,
          task_channel_unique_name: 'chat',
          attributes: {
            department: 'support',
            from: 'whatsapp:+15551234567',
            customerName: 'whatsapp:+15551234567',
            customerAddress: 'whatsapp:+15551234567',
            conversationSid: CONVERSATION,
            conversationServiceSid: SERVICE,
            channelType: 'whatsapp',
            handoff,
          },
        },
      },
    });
  });

  it('names the customer by the web chat name, else the address, else Customer', () => {
    const nameOf = (identity, customerName) =>
      handover.buildInteraction({ config, session, identity, customerName, handoff }).routing.properties.attributes;
    const web = nameOf(handover.parseIdentity('FXabc'), 'Ada');
    assert.deepEqual([web.from, web.customerName, web.customerAddress, web.channelType], ['Ada', 'Ada', 'FXabc', 'web']);
    assert.equal(nameOf(handover.parseIdentity('FXabc'), null).customerName, 'FXabc');
    const unknown = nameOf(handover.parseIdentity(undefined), null);
    assert.deepEqual([unknown.from, unknown.customerName, unknown.customerAddress], ['Customer', 'Customer', '']);
  });

  it("puts the AI's account under the contract's handoff attribute", () => {
    const helpers = handoverHelpers({ ...contract, HANDOFF_ATTRIBUTE: 'aiHandoff' });
    const { attributes } = helpers.buildInteraction({ config, session, identity: whatsapp, customerName: null, handoff }).routing.properties;
    assert.deepEqual(attributes.aiHandoff, handoff);
    assert.equal(attributes.handoff, 'static');
  });
});

describe('buildExecution', () => {
  it("starts the flow for the customer with TAC's HandoffData", () => {
    assert.deepEqual(handover.buildExecution({ config, session, identity: whatsapp, customerName: null, handoff }), {
      to: 'whatsapp:+15551234567',
      from: '+15550001111',
      parameters: {
        HandoffData: {
          conversationId: CONVERSATION,
          storeId: '',
          profileId: '',
          attributes: {
            department: 'support',
            from: 'static',
            handoff: 'static',
            reason: 'asks for a human',
            summary: 'refund',
            conversationSid: CONVERSATION,
            conversationServiceSid: SERVICE,
            channelType: 'whatsapp',
            customerAddress: 'whatsapp:+15551234567',
            customerName: 'whatsapp:+15551234567',
            source: '/tools/flex-handover',
            requestedAt: handoff.requestedAt,
          },
        },
      },
    });
  });

  it('addresses the conversation when the customer is unknown, and names the web chat customer', () => {
    assert.equal(handover.buildExecution({ config, session, identity: handover.parseIdentity(''), customerName: null, handoff }).to, CONVERSATION);
    const web = handover.buildExecution({ config, session, identity: handover.parseIdentity('FXabc'), customerName: 'Ada', handoff });
    assert.equal(web.parameters.HandoffData.attributes.customerName, 'Ada');
  });
});

describe('searches for a lost delivery', () => {
  it('finds the task of this very handoff by conversation and requestedAt', () => {
    assert.equal(
      handover.taskSearchOf({ session, handoff }),
      `conversationSid == "${CONVERSATION}" AND handoff.requestedAt == "2026-01-02T03:04:05.678Z"`
    );
    assert.match(handoverHelpers({ ...contract, HANDOFF_ATTRIBUTE: 'aiHandoff' }).taskSearchOf({ session, handoff }), / AND aiHandoff\.requestedAt == /);
  });

  it("looks at the flow's executions since a minute before the handoff, 20 at most", () => {
    assert.deepEqual(handover.executionSearchOf(handoff), { dateCreatedFrom: new Date('2026-01-02T03:03:05.678Z'), limit: 20 });
  });

  it("recognises the execution whose HandoffData names this conversation and this moment", () => {
    const contextOf = (attributes) => ({ flow: { data: { HandoffData: { attributes } } } });
    assert.equal(handover.isExecutionOf(contextOf({ conversationSid: CONVERSATION, requestedAt: handoff.requestedAt }), { session, handoff }), true);
    assert.equal(handover.isExecutionOf(contextOf({ conversationSid: `CH${'e'.repeat(32)}`, requestedAt: handoff.requestedAt }), { session, handoff }), false);
    assert.equal(handover.isExecutionOf(contextOf({ conversationSid: CONVERSATION, requestedAt: '2026-01-02T03:04:06.000Z' }), { session, handoff }), false);
    for (const other of [undefined, {}, { flow: {} }, { flow: { data: {} } }]) {
      assert.equal(handover.isExecutionOf(other, { session, handoff }), false);
    }
  });
});
