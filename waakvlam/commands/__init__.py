"""Subcommands of the ``waakvlam`` command line, one module each."""
