"""Resident register (住民基本台帳)."""
