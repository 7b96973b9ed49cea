"""The DVC admin portal side of the simulator."""
