"""What the applications share: the command-line runner, option types and output steps
(``cli``), the optimisation loop with progress bar and Ctrl-C (``progress``), parameter
groups, clamps and per-group Adam (``labels``), renderer budgets on the engine's policy
(``budgets``), image and snapshot files (``artifacts``), random initial strokes and blobs
(``init_paths``)."""
