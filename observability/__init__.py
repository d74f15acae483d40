"""What every process shares to be observed: structured, redacted logs."""
