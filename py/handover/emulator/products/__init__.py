"""Emulated Twilio products. Importing this package registers every product's routes and declares its tables."""

from . import api, assistants, conversations, flex, orchestrator, serverless, studio, sync, taskrouter  # noqa: F401
