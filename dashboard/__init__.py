"""Streamlit dashboard for monitors, editors and leaders."""
