"""Connecting incidents: events across sources (``events``), persons and organisations (``entities``)."""
