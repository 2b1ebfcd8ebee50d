'use strict';
// Test harness only, never deployed: loaded first into the local runtime that test_hand_back.py starts
// (NODE_OPTIONS=--require), so that Node's default HTTPS agent goes through HTTPS_PROXY, as Node 24 does by itself
// with NODE_USE_ENV_PROXY=1 and Node 20 cannot. twilio-flex-token-validator makes its one request with
// https.request and no agent (https.globalAgent), and takes no agent, host or port: without this it would go
// straight to iam.twilio.com, not to the emulator's proxy. The twilio library needs none of it (its own agent
// honours HTTP_PROXY). The agent is https-proxy-agent, the one the twilio library carries its requests with.
const https = require('https');
const createHttpsProxyAgent = require('https-proxy-agent');

if (process.env.HTTPS_PROXY) https.globalAgent = createHttpsProxyAgent(process.env.HTTPS_PROXY);
