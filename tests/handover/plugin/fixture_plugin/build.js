// A stand-in for `flex-plugin build`: writes build/<name>.js (what the bundle's content is made of comes from
// FIXTURE_BUNDLE_TEXT, so a test can make another build) and its source map. FIXTURE_BUILD_FAILS makes it fail.
'use strict';

const fs = require('fs');
const path = require('path');

const { name } = require('./package.json');

if (process.env.FIXTURE_BUILD_FAILS) {
  console.error('Module not found: the build failed on purpose');
  process.exit(3);
}
const text = process.env.FIXTURE_BUNDLE_TEXT || 'the panel';
const folder = path.join(__dirname, 'build');
fs.mkdirSync(folder, { recursive: true });
fs.writeFileSync(path.join(folder, `${name}.js`), `Twilio.Flex.Plugins.init(${JSON.stringify(text)});\n`);
fs.writeFileSync(path.join(folder, `${name}.js.map`), JSON.stringify({ version: 3, sources: ['index.js'] }));
console.log(`built ${name}`);
