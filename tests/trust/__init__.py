"""Trust as a stranger checks it, end to end: signed exports, issuer keys and DIDs, the transparency log and
its audit. The primitives they rest on are tested in ``tests/registry/trust``."""
