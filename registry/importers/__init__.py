"""Importers of outside formats into registry commands: DEQAR's submission format (``deqar_format``) and its
import (``deqar``)."""
