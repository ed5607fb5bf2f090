"""clore-sim: a local Clore.ai for testing playbooks."""
