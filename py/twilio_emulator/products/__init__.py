"""Emulated Twilio products. Importing this package registers every product's routes and declares its tables."""

from . import (  # noqa: F401
    api,
    assistants,
    conversation_addresses,
    conversation_messages,
    conversation_participants,
    conversation_webhooks,
    conversations,
    flex,
    flex_plugins,
    iam,
    intelligence,
    orchestrator,
    serverless,
    studio,
    sync,
    taskrouter,
    taskrouter_events,
    taskrouter_lifecycle,
    taskrouter_workers,
    voice,
)
