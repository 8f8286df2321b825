"""Building large organisations to measure the platform against (``osom generate``)."""
