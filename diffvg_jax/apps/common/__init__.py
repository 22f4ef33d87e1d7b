"""What the applications share: the command-line runner and option types (``cli``), image
and snapshot files (``artifacts``), random initial strokes and blobs (``init_paths``)."""
