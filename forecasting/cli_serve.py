"""The `forecasting serve` command (placeholder: being built)."""

from __future__ import annotations

import argparse


def add_command(commands) -> None:
    """Add the `serve` parser to the CLI's sub-commands."""
    parser = commands.add_parser("serve", help="serve bundles over HTTP (FastAPI)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    raise NotImplementedError
