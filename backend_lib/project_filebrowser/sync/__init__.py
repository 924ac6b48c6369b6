"""The three-tree sync engine: scanner, planner, executor, queue."""
