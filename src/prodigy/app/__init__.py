"""Use cases that wire runtime and store together."""
