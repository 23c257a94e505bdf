"""Evaluation and benchmarks (`kbot eval`, `kbot bench`): imported only by those commands, never by the product."""
