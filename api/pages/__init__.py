"""Pages for people: server-rendered HTML (Jinja2) over the same read models the API reads, every asset served here."""
