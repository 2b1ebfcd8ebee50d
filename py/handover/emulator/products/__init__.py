"""Emulated Twilio products. Importing this package registers their routes."""

from . import api, assistants, conversations, flex, serverless, sync, taskrouter  # noqa: F401
