"""The `handover` command: the root group, which registers each family's commands (handover.commands).

The modules a command needs are imported when it runs, so that `handover --help` stays fast: it
imports neither the twilio SDK nor jinja2, matplotlib or the emulator.
"""

from __future__ import annotations

import click

from . import __version__
from .commands import bench, demo, doctor, env, functions, handback, plugin, studio, tac, tool, voice
from .commands.base import CONTEXT, HandoverGroup


class _RegistrationOrder(HandoverGroup):
    """Lists its commands in the order they are added, the order a newcomer uses them, not alphabetically."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=_RegistrationOrder, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version")
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, exists=True),
    help="The Serverless project (default: the nearest directory at or above this one with a .twilioserverlessrc).",
)
def cli(project_dir: str | None) -> None:
    """Hand a customer's conversation from an AI agent to a human agent in Twilio Flex."""


# In the order a newcomer uses them, which is the order --help lists them in: try it locally, set up the account
# (after `twilio serverless:deploy`), check it; then what changing the functions or measuring them needs.
cli.add_command(demo.demo)
cli.add_command(env.env)
cli.add_command(tool.tool)
cli.add_command(studio.studio)
cli.add_command(tac.tac)
cli.add_command(handback.handback)
cli.add_command(voice.voice)
cli.add_command(plugin.plugin)
cli.add_command(doctor.doctor)
cli.add_command(functions.validate)
cli.add_command(functions.generate)
cli.add_command(bench.bench)


def main() -> None:
    cli(prog_name="handover")
