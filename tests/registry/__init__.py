"""The domain's rules, each on both persistence modules (in memory and PostgreSQL) where it stores."""
