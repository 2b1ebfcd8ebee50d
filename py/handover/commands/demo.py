"""`handover demo`: a handoff end to end on the emulator."""

from __future__ import annotations

import click

from .base import command, find_project, require_extra


@command(short_help="Run a handoff end to end on the emulator.")
@click.option(
    "--keep-running", is_flag=True, help="Leave the emulator and the runtime up, and print a curl command to call them."
)
@click.option("--fork", is_flag=True, help="Run each function call in a forked process, as twilio-run does by default.")
@click.pass_context
def demo(ctx: click.Context, keep_running: bool, fork: bool) -> None:
    """Hand a conversation to Flex end to end on the embedded Twilio emulator (no account needed).

    A clean copy of the project is deployed with the Serverless Toolkit's engine (twilio-run deploy), configured
    with `env set` and `tool register`, and its tool called as an AI Assistant calls it; then TAC's path.

    Example: handover demo --keep-running
    """
    require_extra(ctx, "emulator", ("twilio_emulator",))
    from ..local import demo as walkthrough

    walkthrough.run(find_project(ctx), click.echo, keep_running=keep_running, fork=fork)
