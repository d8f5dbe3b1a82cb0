"""Building: the pure plan, what a build does in order, the build log, and checking the result."""
