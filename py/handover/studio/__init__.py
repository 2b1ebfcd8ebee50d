"""The Studio handoff path of Twilio Agent Connect: the flow's definition, its checks and its deployment."""
