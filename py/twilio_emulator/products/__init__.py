"""Emulated Twilio products. Importing this package registers every product's routes and declares its tables."""

from . import (  # noqa: F401
    api,
    assistants,
    conversation_addresses,
    conversations,
    flex,
    intelligence,
    orchestrator,
    serverless,
    studio,
    sync,
    taskrouter,
)
