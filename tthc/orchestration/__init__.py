"""What Airflow tasks call: resolve connections from Airflow, then run the pipeline's steps."""
