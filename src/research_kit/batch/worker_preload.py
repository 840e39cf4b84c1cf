"""Imported by the fork server the batch's workers are forked from: the modules every worker needs, once."""

from research_kit.batch.executors import preload_worker_modules

preload_worker_modules()
