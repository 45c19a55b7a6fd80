"""`python -m forecasting` runs the command line."""

from forecasting.cli import main

raise SystemExit(main())
