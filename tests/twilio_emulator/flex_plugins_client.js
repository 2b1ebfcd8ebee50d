// Drives @twilio/flex-plugins-api-client (its own toolkit, as the Flex Plugins CLI uses it) against whatever
// flex-api.twilio.com the environment reaches: the emulator's proxy in tests/twilio_emulator/test_flex_plugins.py.
// Reads one JSON request on stdin: {name, url, versions, changelog} deploys, configures and releases those versions;
// {describe: name} only describes that plugin and the active release, as `twilio flex:plugins:describe` does. Prints
// one JSON object: what each step of the toolkit answered, or {error: {name, status, code, message}} for the step
// that failed.
'use strict';

const { FlexPluginsAPIToolkit } = require('@twilio/flex-plugins-api-client');

const readStdin = async () => {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
};

const failure = (error) => ({
  name: error.constructor.name,
  status: error.status,
  code: error.code,
  message: error.message,
});

const main = async () => {
  const request = await readStdin();
  const toolkit = new FlexPluginsAPIToolkit(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN);
  const steps = {};
  try {
    if (request.describe) {
      steps.describedPlugin = await toolkit.describePlugin({ name: request.describe });
      const active = steps.describedPlugin.versions.find((version) => version.isActive);
      steps.activeVersion = active ? active.version : null;
      process.stdout.write(JSON.stringify(steps));
      return;
    }
    steps.deployed = [];
    for (const version of request.versions) {
      steps.deployed.push(
        await toolkit.deploy({
          name: request.name,
          url: `${request.url}/${version}/bundle.js`,
          version,
          friendlyName: request.name,
          description: 'Deployed by the api-client test',
          changelog: request.changelog,
          isPrivate: true,
        }),
      );
    }
    const latest = request.versions[request.versions.length - 1];
    steps.configuration = await toolkit.createConfiguration({
      name: `${request.name}@${latest}`,
      addPlugins: [`${request.name}@${latest}`],
      fromConfiguration: 'active',
      description: 'From the api-client test',
    });
    steps.release = await toolkit.release({ configurationSid: steps.configuration.sid });
    steps.describedRelease = await toolkit.describeRelease({ sid: steps.release.releaseSid });
    steps.plugins = await toolkit.listPlugins({});
    steps.versions = await toolkit.listPluginVersions({ name: request.name });
    steps.describedPlugin = await toolkit.describePlugin({ name: request.name });
    steps.describedVersion = await toolkit.describePluginVersion({ name: request.name, version: latest });
    steps.configurations = await toolkit.listConfigurations({});
    steps.releases = await toolkit.listReleases({});
    // The same version again: Twilio keeps a version immutable, so the toolkit's deploy must be refused.
    try {
      await toolkit.deploy({ name: request.name, url: `${request.url}/${latest}/bundle.js`, version: latest });
      steps.redeploy = { refused: false };
    } catch (error) {
      steps.redeploy = { refused: true, error: failure(error) };
    }
    process.stdout.write(JSON.stringify(steps));
  } catch (error) {
    process.stdout.write(JSON.stringify({ ...steps, error: failure(error) }));
  }
};

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
