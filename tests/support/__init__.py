"""What the test packages share: free ports, waiting on a condition, required components."""
