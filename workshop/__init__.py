"""The workshop's own tools: checkpoints of the code, and self-checks against the platform."""
