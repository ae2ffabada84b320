"""DORA four keys: events (commits, deployments, incidents), metrics, bands and trends."""
