"""Data nodes: readers, normalizer, partitioning."""
