"""opsqa evaluation: golden questions, metrics, runner, report and baseline gate."""
