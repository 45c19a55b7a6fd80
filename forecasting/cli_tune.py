"""The `forecasting tune` command (placeholder: being built)."""

from __future__ import annotations

import argparse


def add_command(commands) -> None:
    """Add the `tune` parser to the CLI's sub-commands."""
    parser = commands.add_parser(
        "tune", help="tune a network's settings within a time budget (on Ray)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    raise NotImplementedError
