"""Serving bundles over HTTP: `create_app` (FastAPI) behind `forecasting serve`.

Import it only where the server runs: it imports Keras through the bundle loader.
"""

from forecasting.serving.app import create_app

__all__ = ["create_app"]
