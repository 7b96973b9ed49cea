"""Source clients and loaders: pull both source APIs incrementally into the raw layer."""
