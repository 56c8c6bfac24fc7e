"""Real-browser tests of notebooks (a package, so its fixtures can be package-scoped)."""
