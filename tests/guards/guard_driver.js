// What tests/guards/test_handoff_guard.py asks of Node: the JavaScript guard (guards/handoff-guard.js) and the
// kit's own helpers, run on the cases it writes as JSON to stdin; the answers go to stdout as JSON.
//   {"mode": "window"}                                   the guard's HANDOFF_WINDOW_SECONDS
//   {"mode": "pure", "cases": [{attributes, now}]}       isHandedOff(attributes, Date.parse(now)) of each
//   {"mode": "kit", "cases": [{attributes, now}]}        the kit's handoffRecordOf(text, Date.parse(now)) !== null
//   {"mode": "shapes", "customer", "claim", "ending"}    what the kit's handoff and hand-back write
//   {"mode": "fetch", "serviceSid", "cases": [{conversationSid, now}]}
//        conversationIsHandedOff with a twilio client of ACCOUNT_SID/AUTH_TOKEN (HTTP_PROXY: the emulator's proxy)
// Not a test file of `node --test`: its name does not end in .test.js.
'use strict';

const path = require('path');

const REPO = path.resolve(__dirname, '..', '..');
const guard = require(path.join(REPO, 'guards', 'handoff-guard.js'));

function kit() {
  const contract = require(path.join(REPO, 'assets', 'tools', 'contract.private.js'));
  const handover = require(path.join(REPO, 'assets', 'tools', 'handover.private.js'))(contract);
  const handback = require(path.join(REPO, 'assets', 'lifecycle', 'handback.private.js'));
  return { handover, handback };
}

/** The kit's handoff record over `current`, then the hand-back's over that, then a second handoff after it. */
function shapes({ customer, claim, ending }) {
  const { handover, handback } = kit();
  const claimOf = (requestedAt, claimId) => ({ item: { data: { requestedAt, claimId } } });
  const botWebhook = { sid: `WH${'1'.repeat(32)}`, target: 'webhook', configuration: { url: 'http://127.0.0.1:9/bot' } };
  const handedOff = handover.handedOffAttributes(JSON.stringify(customer), claimOf(claim.requestedAt, claim.claimId), [
    botWebhook,
  ]);
  const handedBack = handback.handedBackAttributes(handedOff, ending, ending.at, true);
  const again = handover.handedOffAttributes(JSON.stringify(handedBack), claimOf(claim.againAt, claim.claimId), []);
  return { handedOff: JSON.stringify(handedOff), handedBack: JSON.stringify(handedBack), again: JSON.stringify(again) };
}

async function answer(request) {
  switch (request.mode) {
    case 'window':
      return guard.HANDOFF_WINDOW_SECONDS;
    case 'pure':
      return request.cases.map(({ attributes, now }) => guard.isHandedOff(attributes, Date.parse(now)));
    case 'kit': {
      const { handover } = kit();
      return request.cases.map(({ attributes, now }) => handover.handoffRecordOf(attributes, Date.parse(now)) !== null);
    }
    case 'shapes':
      return shapes(request);
    case 'fetch': {
      const client = require('twilio')(process.env.ACCOUNT_SID, process.env.AUTH_TOKEN);
      const answers = [];
      for (const { conversationSid, now } of request.cases) {
        answers.push(await guard.conversationIsHandedOff(client, request.serviceSid, conversationSid, Date.parse(now)));
      }
      return answers;
    }
    default:
      throw new Error(`no such mode: ${request.mode}`);
  }
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  process.stdout.write(JSON.stringify(await answer(JSON.parse(Buffer.concat(chunks).toString('utf8')))));
}

main().catch((error) => {
  process.stderr.write(`${(error && error.stack) || error}\n`);
  process.exitCode = 1;
});
