"""Textual stylesheets shipped with the package."""
