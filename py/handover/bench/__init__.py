"""`handover bench`: what a handoff costs (round trips to Twilio, time above them, cold start), and that it
holds under a burst, and that the hand-back holds when every task ends at once, measured through the real local
runtime against the emulator.

One module per concern: `runner` (the scenarios in turn, bounded), `handoffs` (round trips, latency, burst),
`scale` (the sustained rate and the spike at Twilio's limits), `handbacks` (the hand-back burst), `calls` (the
tool called over loopback), `node` (measurements inside Node), `commands` (the Python commands),
`stats` (percentiles and intervals), `report` and `chart` (how the results read).
"""
