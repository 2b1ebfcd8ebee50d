"""What stops a command: one base class, whose message says what happened and what to do.

The CLI turns a HandoverError into a click error in one place (`commands.base._ClickErrors`, the base of its commands):
exit 2 with the command's usage for an InputError, exit 1 for any other. No module below the CLI imports click.
"""

from __future__ import annotations


class HandoverError(Exception):
    """A command failed; the message names what went wrong and what to do about it. Exit 1."""

    usage = False  # whether the user's input is at fault: the CLI then shows the command's usage, exit 2


class InputError(HandoverError):
    """What the user gave cannot be used (an option, the project directory, the credentials). Exit 2."""

    usage = True


class PartlyApplied(HandoverError):
    """A write failed part-way; the message lists what was applied before it, and the error carries the result."""
