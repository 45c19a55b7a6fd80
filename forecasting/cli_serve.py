"""The `forecasting serve` command: bundles over HTTP (FastAPI + uvicorn).

`forecasting serve BUNDLE [BUNDLE...] [--host 127.0.0.1] [--port 8000] [--api-key-env NAME]
[--max-body-mb N]`. Every bundle is checked and loaded before the server starts (a bad one
exits 2 with its `error:` line); each is served under its file name without `.zip`
(`models/sales.zip` -> `/v1/models/sales/forecast`).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from forecasting.errors import BundleError, ConfigError

DEFAULT_MAX_BODY_MB = 1.0


def add_command(commands) -> None:
    """Add the `serve` parser to the CLI's sub-commands."""
    parser = commands.add_parser(
        "serve",
        help="serve bundles over HTTP (FastAPI; docs at /docs)",
        description="Serve trained bundles over HTTP: GET /healthz, GET /v1/models, "
        "POST /v1/models/NAME/forecast, OpenAPI docs at /docs. NAME is the bundle's file "
        "name without .zip.",
    )
    parser.add_argument("bundles", metavar="BUNDLE", nargs="+", help="bundle(s) to serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="environment variable holding the API key; then every /v1/ request needs it "
        "in the X-API-Key header",
    )
    parser.add_argument(
        "--max-body-mb",
        type=float,
        default=DEFAULT_MAX_BODY_MB,
        metavar="N",
        help=f"largest request body, in megabytes (default {DEFAULT_MAX_BODY_MB:g})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the options, load every bundle, then serve until stopped; the exit code."""
    api_key = _api_key(args.api_key_env)
    if not 0 < args.max_body_mb <= 1024:
        raise ConfigError(
            f"--max-body-mb must be above 0 and at most 1024. Received: {args.max_body_mb:g}"
        )
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be 0 to 65535. Received: {args.port}")
    sock = _bind(args.host, args.port)  # before the slow loading: a taken port fails at once
    try:
        bundles = load_bundles(args.bundles)
    except BaseException:
        sock.close()
        raise
    import uvicorn

    from forecasting.serving import create_app

    app = create_app(bundles, api_key=api_key, max_body_bytes=int(args.max_body_mb * 1_000_000))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    print(
        f"serving {', '.join(bundles)} at http://{args.host}:{sock.getsockname()[1]} "
        f"(docs: /docs{'; API key required' if api_key else ''})",
        file=sys.stderr,
        flush=True,
    )
    server.run(sockets=[sock])
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """A socket bound to the address (uvicorn listens on it).

    Raises:
        ConfigError: The address cannot be used (taken, or not this machine's).
    """
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise ConfigError(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}). Choose another --port "
            "(or --host)."
        ) from None
    return sock


def _api_key(variable: str | None) -> str | None:
    if variable is None:
        return None
    key = os.environ.get(variable, "")
    if not key:
        raise ConfigError(
            f"--api-key-env {variable}: the environment variable {variable} is not set (or "
            "empty). Set it to the API key, or drop --api-key-env to serve without a key."
        )
    return key


def load_bundles(paths: list[str]) -> dict:
    """Name (file stem) -> bundle, each checked by the loader; many-series bundles and
    duplicate names are refused.

    Raises:
        BundleError: Naming the file and the check that failed.
    """
    from forecasting.bundle import load_bundle
    from forecasting.panel_bundle import bundle_kind

    bundles, paths_by_name = {}, {}
    for text in paths:
        path = Path(text)
        name = path.stem
        if name in paths_by_name:
            raise BundleError(
                f"{text} and {paths_by_name[name]} would both be served as {name!r}: a model's "
                "name is its file name without .zip. Rename one of them."
            )
        if not path.is_file():
            raise BundleError(f"{text}: no such file. Check the path.")
        try:
            if bundle_kind(path) == "panel":
                raise BundleError(
                    "it is a many-series bundle; `forecasting serve` serves single-series "
                    "bundles. Forecast with it on the command line: forecasting forecast "
                    "DATA --id-col ID --model BUNDLE."
                )
            bundles[name] = load_bundle(path)
        except BundleError as exc:
            raise BundleError(f"{text}: {exc}") from None
        paths_by_name[name] = text
    return bundles
