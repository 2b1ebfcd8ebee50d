'use strict';
// Loaded first into a Node client of the emulator (NODE_OPTIONS=--require, in EmulatorProxy.client_environment),
// so that Node's default HTTPS agent goes through HTTPS_PROXY, as Node 24 does by itself with NODE_USE_ENV_PROXY=1
// and Node 20 cannot. Clients that make their requests with https.request and no agent of their own go through
// https.globalAgent: twilio-flex-token-validator does, and takes no agent, host or port, so without this it would
// go straight to iam.twilio.com instead of the emulator. The twilio library needs none of it (its own agent honours
// HTTP_PROXY). The agent is https-proxy-agent, the one the twilio library carries its requests with, resolved from
// the client's project (its working directory); a project without it is told once, and left as it is.
const https = require('https');

if (process.env.HTTPS_PROXY) {
  let createHttpsProxyAgent;
  try {
    createHttpsProxyAgent = require(require.resolve('https-proxy-agent', { paths: [process.cwd()] }));
  } catch {
    process.stderr.write(
      'twilio-emulator: https-proxy-agent is not installed in this project (npm install twilio brings it): ' +
        "requests on Node's default HTTPS agent will not reach the emulator.\n",
    );
  }
  if (createHttpsProxyAgent) https.globalAgent = createHttpsProxyAgent(process.env.HTTPS_PROXY);
}
