"""The worker's side of an update job: the job's upload is the parent bundle, its series the
new data, its options an `UpdateOptions`. The worker checks and loads the bundle (never the
server), runs `forecasting.update.update_bytes` and saves the kept candidate's bundle as
`bundle.zip` and every candidate's as `bundle-<name>.zip` (so a page can keep another one
without running the update again)."""

from __future__ import annotations

from pathlib import Path

from forecasting.registry import UPLOAD, JobSpec, series_from_dict

KEPT = "bundle.zip"


def candidate_file(name: str) -> str:
    """The file of one candidate's bundle in the job's folder."""
    return f"bundle-{name}.zip"


def run_update_job(folder: Path, spec: JobSpec, on_epoch, should_stop) -> tuple[dict, str]:
    """Update the uploaded bundle with the job's series.

    Returns:
        The `UpdateReport` as a dict, and the drift warning as the job's message ("" when
        the model holds up).

    Raises:
        BundleError: The upload fails a bundle check (or holds many series).
        DataError: The new data does not continue the model's data.
    """
    from forecasting.update import UpdateOptions, update_bytes

    folder = Path(folder)
    result = update_bytes(
        (folder / UPLOAD).read_bytes(),
        series_from_dict(spec.series),
        UpdateOptions.from_dict(spec.options or {}),
        on_epoch=on_epoch,
        should_stop=should_stop,
    )
    for name, bundle in result.bundles.items():
        data = bundle.to_bytes()
        (folder / candidate_file(name)).write_bytes(data)
        if name == result.report.chosen:
            (folder / KEPT).write_bytes(data)
    return result.report.to_dict(), result.report.drift.warning


__all__ = ["KEPT", "candidate_file", "run_update_job"]
