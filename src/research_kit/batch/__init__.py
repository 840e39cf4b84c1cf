"""Run the country-report notebook for many countries: parallel, isolated, atomic, incremental, reproducible."""

from research_kit.batch.jobs import ReportJob, ReportOutcome
from research_kit.batch.reproduce import ReproduceResult, reproduce

__all__ = ["BatchResult", "ReportJob", "ReportOutcome", "ReproduceResult", "notebook_path", "reproduce",
           "run_reports", "write_index"]

_RUNNER = ("BatchResult", "notebook_path", "run_reports", "write_index")


def __getattr__(name: str):
    # The runner pulls in estimation and disclosure control; the batch's worker processes, which import
    # this package, only run notebooks and need none of it.
    if name in _RUNNER:
        from research_kit.batch import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'research_kit.batch' has no attribute {name!r}")
