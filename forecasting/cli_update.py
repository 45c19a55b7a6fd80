"""The `forecasting update` command (placeholder: being built)."""

from __future__ import annotations

import argparse


def add_command(commands) -> None:
    """Add the `update` parser to the CLI's sub-commands."""
    parser = commands.add_parser(
        "update", help="update a bundle with new data (unchanged, fine-tuned or retrained)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    raise NotImplementedError
