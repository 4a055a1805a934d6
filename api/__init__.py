"""The HTTP edge: the FastAPI app, its dependencies (``deps``), authentication, problems, observability, a REST
router per resource (``rest``) and GraphQL (``graphql``). Rules live in the registry, work in ``mcreg.services``."""
