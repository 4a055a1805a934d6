"""Importers of outside formats into registry commands: DEQAR's submission format."""
