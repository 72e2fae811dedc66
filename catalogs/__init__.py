"""Bundled catalogs (TOML data); see README.md in this folder."""
