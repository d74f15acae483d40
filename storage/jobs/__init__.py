"""Bulk jobs: one action over many visits or patients, run by a worker in committed batches."""
