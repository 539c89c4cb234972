"""Performance figures (``make bench``): each measured next to a raw baseline in the same run."""
