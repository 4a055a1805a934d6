"""Pages for people: server-rendered HTML (Jinja2) over the same read models the API reads, every asset served here.

``PAGES`` lists the modules whose ``router`` serves a page; the application includes each. Every text a page
shows is marked for translation (``{% trans %}`` or ``_()`` in templates).
"""

from mcreg.api.pages import catalogue, credential, dashboard, history, home, verify

PAGES = (home, dashboard, verify, credential, catalogue, history)
