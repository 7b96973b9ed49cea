"""Data-quality suites (Great Expectations) and the gate that runs them before publishing."""
