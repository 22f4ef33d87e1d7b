"""What the applications share: the command-line runner and output steps (``cli``), the
option definitions every command shares (``options``), the optimisation loop with its
progress display and Ctrl-C (``progress``) and its timing (``timing``), parameter
groups, clamps and per-group Adam (``labels``), renderer budgets on the engine's policy
(``budgets``), image and snapshot files (``artifacts``), random initial strokes and blobs
(``init_paths``)."""
