"""A helper package; its submodules are imported by the first revision only."""
