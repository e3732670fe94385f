"""Thin dashboard pages."""
