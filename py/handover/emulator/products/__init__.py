"""Emulated Twilio products. Importing this package registers their routes."""

from . import api, assistants, conversations, flex, serverless, taskrouter  # noqa: F401
