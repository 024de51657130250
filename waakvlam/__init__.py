"""Waakvlam's composition root and command line."""
