"""The Ray runtime a search runs on: a cluster when `RAY_ADDRESS` is set, else a local one.

Only worker processes (a job's worker, the CLI, a benchmark) import this: the Streamlit server
never imports Ray. Ray starts once per search (seconds) and stops after it, unless it was
already running in the process (then it is left as it was).
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass

OBJECT_STORE_BYTES = 128 * 1024 * 1024  # series and results are small


@dataclass(frozen=True)
class Engine:
    """Where the trials run.

    Attributes:
        name: "ray".
        address: The cluster's address (GCS host:port).
        nodes: Live nodes in the cluster.
        cpus: CPUs of the cluster.
        local: True for a runtime started by this process, False for a cluster joined.
        node_ids: Ids of the live nodes (each trial records the node it ran on).
    """

    name: str
    address: str
    nodes: int
    cpus: int
    local: bool
    node_ids: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        data = asdict(self)
        data["node_ids"] = list(self.node_ids)
        return data


def quiet_ray() -> None:
    """Ray's and Optuna's progress tables and logs off (the caller reports progress)."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    for name in ("ray", "ray.tune", "ray.train", "optuna"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="ray")
    warnings.filterwarnings("ignore", module="optuna")


@contextlib.contextmanager
def ray_runtime() -> Iterator[Engine]:
    """Start (or join) Ray for one search; yields the `Engine`.

    With `RAY_ADDRESS` set the trials run on that cluster; otherwise a local runtime with as
    many CPUs as the machine has, no dashboard. Trials get the project's Keras backend.
    """
    quiet_ray()
    import ray

    for name in ("ray", "ray.tune", "ray.train"):  # Ray sets its own levels on import
        logging.getLogger(name).setLevel(logging.CRITICAL)

    started = not ray.is_initialized()
    address = os.environ.get("RAY_ADDRESS", "").strip()
    if started:
        backend = os.environ.get("KERAS_BACKEND", "jax")
        options = dict(
            include_dashboard=False,
            logging_level=logging.ERROR,
            log_to_driver=False,
            runtime_env={"env_vars": {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}},
        )
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(
                address="local",
                num_cpus=len(os.sched_getaffinity(0)) or 1,  # the cores this process may use
                object_store_memory=OBJECT_STORE_BYTES,
                **options,
            )
    try:
        nodes = [node["NodeID"] for node in ray.nodes() if node.get("Alive")]
        yield Engine(
            "ray",
            ray.get_runtime_context().gcs_address,
            len(nodes),
            int(ray.cluster_resources().get("CPU", 0)),
            started and not address,
            tuple(nodes),
        )
    finally:
        if started:
            ray.shutdown()
