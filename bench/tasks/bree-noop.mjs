// bree's job file for the per-run benchmark: nothing to do, so the worker exits as soon as it has loaded.
