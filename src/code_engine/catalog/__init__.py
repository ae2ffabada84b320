"""The service catalog: services and their ordered environments."""
