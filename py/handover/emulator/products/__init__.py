"""Emulated Twilio products. Importing this package registers their routes."""

from . import api, assistants, conversations, flex, orchestrator, serverless, studio, sync, taskrouter  # noqa: F401
