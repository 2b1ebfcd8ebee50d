"""Hand a customer's conversation from an AI agent to a human agent in Twilio Flex."""

__version__ = "0.1.0"
