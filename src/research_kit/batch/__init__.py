"""Run the country-report notebook for many countries: parallel, isolated, atomic, incremental, reproducible."""

from research_kit.batch.jobs import ReportJob, ReportOutcome
from research_kit.batch.reproduce import ReproduceResult, reproduce
from research_kit.batch.runner import BatchResult, notebook_path, run_reports, write_index

__all__ = ["BatchResult", "ReportJob", "ReportOutcome", "ReproduceResult", "notebook_path", "reproduce",
           "run_reports", "write_index"]
