"""The voice path: a ConversationRelay voice AI's number wired to the deployed functions (wiring.py)."""
