// For Jest only (the build has flex-plugin-scripts' own): today's Node, and JSX.
module.exports = {
  presets: [['@babel/preset-env', { targets: { node: 'current' } }], ['@babel/preset-react', { runtime: 'classic' }]],
};
