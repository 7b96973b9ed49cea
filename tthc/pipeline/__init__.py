"""The pipeline's steps, each callable from a DAG task, the CLI or a test."""
