"""Fitness data (model 5.4 and 11): measurements of contract metrics, the standard measures,
the executive's aggregations across services, and capital flow through the network."""
