"""The `handover` commands, one module per family as the Serverless Toolkit keeps src/commands/; `base` holds what
every family shares. cli.py registers them."""
