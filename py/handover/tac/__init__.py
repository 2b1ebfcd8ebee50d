"""`handover tac …`: Twilio Agent Connect's Console steps as re-runnable commands (addresses, Orchestrator, summaries,
the Studio flow), each reading first and writing only what differs."""
