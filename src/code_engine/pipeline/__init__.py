"""The quality pipeline: stages, content cache, quality gates, dependency scan and run evidence."""
