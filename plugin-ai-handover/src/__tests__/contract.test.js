// The plugin's copy of the contract (src/generated/contract.js, from py/handover/contract.py through `handover
// generate`) says what the functions' copy says; `handover validate` checks both against their templates.
import * as pluginContract from '../generated/contract';

const functionsContract = require('../../../assets/tools/contract.private.js');

test.each(['HANDOFF_ATTRIBUTE', 'MAX_REASON_LENGTH', 'MAX_SUMMARY_LENGTH', 'CONTRACT_VERSION'])('%s', (name) => {
  expect(pluginContract[name]).toBeDefined();
  expect(pluginContract[name]).toEqual(functionsContract[name]);
});
