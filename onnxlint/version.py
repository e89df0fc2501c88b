"""The package version: one source, read by the package, the reports and the build (pyproject.toml)."""
__version__ = "0.1.0"
