"""Exceptions whose message is shown to the user as one line."""


class ConfigError(ValueError):
  """A config, data or workdir problem, with a message saying how to fix it."""
