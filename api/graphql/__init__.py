"""The GraphQL read API for national authorities, institutions and auditors."""
