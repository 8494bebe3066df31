"""Pure rules: the record schema, schemes and tiers, status, USCC, validation problems."""
