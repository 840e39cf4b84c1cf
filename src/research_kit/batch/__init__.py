"""Run the country-report notebook for many countries, in parallel, one failure never stopping the others."""

from research_kit.batch.runner import BatchResult, ReportOutcome, notebook_path, run_reports, write_index

__all__ = ["BatchResult", "ReportOutcome", "notebook_path", "run_reports", "write_index"]
