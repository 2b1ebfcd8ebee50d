"""A Twilio account's side of the handover: credentials, the
deployment, its variables and token, routing, the AI Assistant tool."""
