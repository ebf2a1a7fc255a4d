"""Python code generated from the registry: typed channels for producers, typed subscribers for consumers."""
