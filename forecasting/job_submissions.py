"""The typed ways to queue a job: each `submit_*` builds the `JobSpec` of one kind from the
page's objects and hands it to the manager's `submit` (`forecasting.jobs.JobManager`)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from forecasting.covariates import Roles
from forecasting.registry import (
    BACKTEST,
    FORECAST,
    PANEL,
    TRAIN,
    TUNE,
    UPDATE,
    JobSpec,
    frame_to_dict,
    series_to_dict,
)
from forecasting.series import TimeSeries


class JobSubmissions:
    """Mixin of `JobManager`: one `submit_*` per job kind, each through the manager's
    `submit(spec, upload=None) -> job id`."""

    submit: Callable[..., str]

    def submit_training(
        self,
        series: TimeSeries,
        config,
        data_options: dict | None = None,
        label: str = "",
        owner: str = "",
        roles: Roles | None = None,
        future: pd.DataFrame | None = None,
    ) -> str:
        """Queue a training of `series` with `config` (a RunConfig) for session `owner`,
        reading the covariates of `roles` (None: none) with the future covariates' values
        `future` (a future file's table, indexed by timestamp; None when none)."""
        return self.submit(
            _series_spec(TRAIN, label, series, config, data_options, owner, roles, future)
        )

    def submit_backtest(
        self,
        series: TimeSeries,
        config,
        folds: int,
        data_options: dict | None = None,
        label: str = "",
        owner: str = "",
        roles: Roles | None = None,
    ) -> str:
        """Queue a rolling-origin backtest of `config` on `series` with `folds` folds (with
        the covariates of `roles`, and the same folds without them, when given)."""
        return self.submit(
            JobSpec(
                BACKTEST,
                label,
                series=series_to_dict(series),
                config=config.to_dict(),
                data_options=data_options,
                folds=folds,
                owner=owner,
                roles=_roles_dict(roles),
            )
        )

    def submit_forecast(
        self,
        bundle: bytes,
        series: TimeSeries | None = None,
        label: str = "",
        owner: str = "",
        future: pd.DataFrame | None = None,
    ) -> str:
        """Queue a forecast from an uploaded bundle (checked by the worker before anything
        in it is loaded), after `series` or, when None, after the bundle's own data; `future`
        holds the future covariates' values over the horizon (a future file's table) for a
        bundle that reads future covariates."""
        series_data = None if series is None else series_to_dict(series)
        return self.submit(
            JobSpec(
                FORECAST,
                label,
                series=series_data,
                owner=owner,
                future=None if future is None else frame_to_dict(future),
            ),
            upload=bundle,
        )

    def submit_panel(
        self,
        panel,
        config,
        data_options: dict | None = None,
        label: str = "",
        owner: str = "",
    ) -> str:
        """Queue one global network's training on every series of `panel` (a `Panel`) with
        `config` (a RunConfig) for session `owner`; its result is a `PanelResult`
        (`panel_result`), its bundle a panel bundle (`bundle_bytes`)."""
        return self.submit(
            JobSpec(
                PANEL,
                label,
                config=config.to_dict(),
                data_options=data_options,
                owner=owner,
                panel=panel.to_dict(),
            )
        )

    def submit_tune(
        self,
        series: TimeSeries,
        config,
        options: dict | None = None,
        data_options: dict | None = None,
        label: str = "",
        owner: str = "",
        roles: Roles | None = None,
        future: pd.DataFrame | None = None,
    ) -> str:
        """Queue a budgeted search from `config` (a RunConfig) with `options` (`TuneOptions`
        fields: budget, trials, seed, folds, space), then the best retrained; its leaderboard
        is `tune_board`, its result `tune_result`, its bundle `bundle_bytes`."""
        spec = _series_spec(TUNE, label, series, config, data_options, owner, roles, future)
        return self.submit(spec.replace(options=options))

    def submit_update(
        self,
        bundle: bytes,
        series: TimeSeries,
        options: dict | None = None,
        label: str = "",
        owner: str = "",
    ) -> str:
        """Queue an update of the uploaded `bundle` (checked by the worker before anything in
        it is loaded) with the newer data `series`; `options` are `UpdateOptions` fields (keep,
        epochs, fill, folds). Its result is an `UpdateReport` (`update_result`), its bundles
        `bundle_bytes(job_id)` (the kept one) and `bundle_bytes(job_id, name)`."""
        return self.submit(
            JobSpec(UPDATE, label, series=series_to_dict(series), owner=owner, options=options),
            upload=bundle,
        )


def _series_spec(
    kind: str,
    label: str,
    series: TimeSeries,
    config,
    data_options: dict | None,
    owner: str,
    roles: Roles | None,
    future: pd.DataFrame | None,
) -> JobSpec:
    """The spec of a job on one series with covariates (a training or a tuning)."""
    return JobSpec(
        kind,
        label,
        series=series_to_dict(series),
        config=config.to_dict(),
        data_options=data_options,
        owner=owner,
        roles=_roles_dict(roles),
        future=None if future is None else frame_to_dict(future),
    )


def _roles_dict(roles: Roles | dict | None) -> dict | None:
    """Roles as the job spec stores them, plain JSON (a dict is checked by `Roles.from_dict`)."""
    if roles is None:
        return None
    record = roles if isinstance(roles, Roles) else Roles.from_dict(roles)
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in record.to_dict().items()
    }
