"""The kit's Flex UI plugin as code: its folder and production bundle (`bundle`), `handover plugin build`
(`build`) and `handover plugin deploy` (`deploy`: the bundle uploaded as the Flex plugins tooling uploads it, then
plugin, version, configuration and release through the Flex Plugins API)."""
