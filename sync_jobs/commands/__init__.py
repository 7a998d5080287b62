"""The write path's executing side: commands applied to the system that owns the data."""
