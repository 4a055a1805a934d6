"""The registry's aggregates: each one's events, state and the rules it checks on itself.

Each module ends by naming the stored topic of its classes (``registry.topics.stored_as``), so the
stored names stay as first written wherever the code lives.
"""
