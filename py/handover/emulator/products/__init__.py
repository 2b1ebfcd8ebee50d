"""Emulated Twilio products. Importing this package registers their routes."""

from . import conversations, flex, taskrouter  # noqa: F401
