"""Running the handover on this machine: the real Functions runtime, the emulator beside it, and the demo."""
