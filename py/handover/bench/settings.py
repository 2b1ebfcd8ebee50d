"""What a bench run measures: the full and quick profiles, and the latency below which the figures carry a stall."""

from __future__ import annotations

from dataclasses import dataclass, replace

# Below this, the emulator's proxy adds a TCP delayed-ACK stall of its own to each request (see report).
STALL_FREE_LATENCY_MS = 40


@dataclass(frozen=True)
class Settings:
    latency_ms: int = 50
    calls: int = 200  # handoffs per latency series, on distinct conversations
    refused_calls: int = 50  # 401s per series: the runtime's own cost
    burst_conversations: int = 100
    calls_per_conversation: int = 3
    # The spike at Twilio's documented limits: conversations × calls_per_conversation calls arriving at random
    # moments of a window (Twilio time), time-scaled so that this machine can offer that load (see scale.py).
    spike_conversations: int = 1000
    spike_window_seconds: float = 10.0
    time_scale: float = 6.0
    spike_workers: int = 256
    # The hand-back burst: conversations handed off, then all their tasks wrapped up and completed within a window
    # (Twilio time) at Twilio's limits, time-scaled as the spike; TaskRouter's events sent by this many senders.
    handback_conversations: int = 1000
    handback_window_seconds: float = 10.0
    handback_senders: int = 32
    # The voice path (voice.py): calls whose ConversationRelay sessions end within the window, on an account of its own.
    voice_calls: int = 500
    cold_start_runs: int = 5
    help_runs: int = 5
    client_requests: int = 20
    quick: bool = False


FULL = Settings()
QUICK = Settings(
    calls=5,
    refused_calls=3,
    burst_conversations=5,
    spike_conversations=20,
    spike_window_seconds=1.0,
    time_scale=1.0,
    spike_workers=32,
    handback_conversations=10,
    handback_window_seconds=1.0,
    voice_calls=10,
    cold_start_runs=1,
    help_runs=1,
    client_requests=3,
    quick=True,
)


def settings_for(
    quick: bool,
    latency_ms: int | None = None,
    calls: int | None = None,
    burst: int | None = None,
    spike: int | None = None,
    time_scale: float | None = None,
) -> Settings:
    """The full or quick profile, with what the user gave instead."""
    given = {
        "latency_ms": latency_ms,
        "calls": calls,
        "burst_conversations": burst,
        "spike_conversations": spike,
        "time_scale": time_scale,
    }
    return replace(QUICK if quick else FULL, **{name: value for name, value in given.items() if value is not None})
